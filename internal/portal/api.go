package portal

import (
	"errors"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/httpx"
)

// Request bodies of the dev-portal v2 contract. Unknown fields are a 400.
type (
	registerBody struct {
		Email    *string `json:"email"`
		FullName *string `json:"full_name"`
	}
	tokenBody struct {
		Token *string `json:"token"`
	}
	resetBody struct {
		Token    *string `json:"token"`
		Password *string `json:"password"`
	}
	emailBody struct {
		Email *string `json:"email"`
	}
	authBody struct {
		Username *string `json:"username"`
		Password *string `json:"password"`
	}
)

// meBody is the contract's Developer.
type meBody struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	FullName  string `json:"full_name"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

// required returns the first missing field of a decoded body, in the
// contract's order.
func required(fields ...any) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if p, _ := fields[i+1].(*string); p == nil {
			return requiredError(fields[i].(string))
		}
	}
	return nil
}

// readBody decodes a JSON request body strictly into dst, then runs check
// (the required fields, read from dst once it is filled). On failure it has
// answered and returns false.
func (s *server) readBody(w http.ResponseWriter, r *http.Request, dst any, check func() error) bool {
	err := httpx.DecodeJSON(w, r, dst, maxBody)
	if err == nil {
		err = check()
	}
	if err != nil {
		s.apiError(w, r, err)
		return false
	}
	return true
}

func (s *server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	ri := info(r)
	if errors.Is(err, errGone) {
		httpx.WriteJSONType(w, http.StatusGone, "application/problem+json", httpx.Problem{
			Status: http.StatusGone, Title: "Gone", Type: "https://httpstatuses.com/410",
			Instance: "kong:trace:" + ri.trace, Detail: "The token has expired"})
		return
	}
	var rl rateLimited
	if errors.As(err, &rl) {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(rl.retry.Seconds()))))
	}
	httpx.WriteError(w, r, err, ri.trace, s.log)
}

func (s *server) apiRegister(w http.ResponseWriter, r *http.Request) {
	var b registerBody
	if !s.readBody(w, r, &b, func() error { return required("email", b.Email, "full_name", b.FullName) }) {
		return
	}
	email, err := checkEmail("email", *b.Email)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	name, err := checkFullName(*b.FullName)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.register(r.Context(), r, email, name); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

func (s *server) apiVerifyEmail(w http.ResponseWriter, r *http.Request) {
	var b tokenBody
	if !s.readBody(w, r, &b, func() error { return required("token", b.Token) }) {
		return
	}
	d, reset, err := s.verifyEmail(r.Context(), r, *b.Token)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusAccepted, map[string]string{"email": d.Email, "token": reset})
}

func (s *server) apiResetPassword(w http.ResponseWriter, r *http.Request) {
	var b resetBody
	if !s.readBody(w, r, &b, func() error { return required("password", b.Password, "token", b.Token) }) {
		return
	}
	_, device, err := s.resetPassword(r.Context(), r, *b.Token, *b.Password)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.setDeviceCookie(w, r, device)
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) apiForgotPassword(w http.ResponseWriter, r *http.Request) {
	var b emailBody
	if !s.readBody(w, r, &b, func() error { return required("email", b.Email) }) {
		return
	}
	email, err := checkEmail("email", *b.Email)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.forgotPassword(r.Context(), r, email); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// apiAuthenticate serves both the JSON API and the log-in page's form, so
// a browser log-in is recorded with the same request path as Kong's.
func (s *server) apiAuthenticate(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		s.pageLoginPost(w, r)
		return
	}
	var b authBody
	if !s.readBody(w, r, &b, func() error { return required("username", b.Username, "password", b.Password) }) {
		return
	}
	if *b.Password == "" {
		s.apiError(w, r, requiredError("password"))
		return
	}
	email, err := checkEmail("username", *b.Username)
	if err != nil {
		if strings.TrimSpace(*b.Username) != "" {
			err = s.rejectUsername(r.Context(), r, err)
		}
		s.apiError(w, r, err)
		return
	}
	ss, err := s.authenticate(r.Context(), r, email, *b.Password)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.startSession(w, r, ss)
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) apiLogout(w http.ResponseWriter, r *http.Request) {
	if err := s.logout(r.Context(), r); err != nil {
		s.apiError(w, r, err)
		return
	}
	s.endSession(w, r)
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) apiMe(w http.ResponseWriter, r *http.Request) {
	d, err := s.currentDeveloper(r.Context(), r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, meBody{ID: d.ID, Email: d.Email, FullName: d.FullName,
		CreatedAt: d.CreatedAt.UTC().Format(time.RFC3339), UpdatedAt: d.UpdatedAt.UTC().Format(time.RFC3339)})
}

func (s *server) apiRefresh(w http.ResponseWriter, r *http.Request) {
	ss, err := s.refresh(r.Context(), r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.setSessionCookies(w, r, ss)
	w.WriteHeader(http.StatusNoContent)
}

// apiMethod names the one method of a developer API route, so a wrong
// method gets a 405 problem rather than the mux's plain text.
func apiMethod(path string) (string, bool) {
	switch path {
	case "/api/v2/developer/me", ssoStartPath, ssoCallbackPath:
		return http.MethodGet, true
	case "/api/v2/developer", "/api/v2/developer/verify-email", "/api/v2/developer/reset-password",
		"/api/v2/developer/forgot-password", "/api/v2/developer/authenticate", "/api/v2/developer/logout",
		"/api/v2/developer/refresh":
		return http.MethodPost, true
	}
	return "", false
}

func (s *server) apiNotFound(w http.ResponseWriter, r *http.Request) {
	if m, ok := apiMethod(r.URL.Path); ok {
		w.Header().Set("Allow", m)
		s.apiError(w, r, apperr.New(apperr.MethodNotAllowed, "Use %s on this path", m))
		return
	}
	s.apiError(w, r, apperr.New(apperr.NotFound, "Not Found"))
}
