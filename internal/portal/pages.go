package portal

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets/portal.css
var portalCSS []byte

// pageData is what every page template sees.
type pageData struct {
	Title, Portal, Description string
	CSRF                       string
	Error, Notice              string
	Fields                     map[string]string // values to show again
	FieldErrors                map[string]string
	LoggedIn, Wide             bool
	NoNav                      bool // a page of no portal: its links would lead nowhere
	NoMail                     bool // no mail server: emails only reach the server log
	Dev                        store.Developer
	// The log-in page's ways in (single sign-on, email and password).
	SSO, BasicOff bool
	// Set-password pages.
	Token, Action, Lead string
	// Portal content (content.go): menus on every page that loads them,
	// and a content page's tree and rendered Markdown.
	Menu         []navLink
	Footer       []footerSection
	FooterBottom []navLink
	Tree         []navNode
	Body         template.HTML
	PagePath     string
	// The portal's logo and favicon (assets.go), when it has them.
	Logo, Favicon string
}

type fieldRef struct {
	FieldErrors map[string]string
	Name        string
}

// parsePages parses each page together with the layout. The templates are
// embedded, so a parse error is a build defect and panics at start-up.
func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{"field": func(d pageData, name string) fieldRef { return fieldRef{d.FieldErrors, name} }}
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	pages := map[string]*template.Template{}
	for _, name := range []string{"home", "signup", "signup_done", "login", "profile", "forgot", "forgot_done", "password", "message", "noportal", "page"} {
		pages[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, "templates/"+name+".html"))
	}
	return pages
}

func (s *server) newPage(w http.ResponseWriter, r *http.Request, title string) pageData {
	p := info(r).portal
	return pageData{Title: title, Portal: portalTitle(p), Description: p.Description, CSRF: s.csrfToken(w, r),
		Fields: map[string]string{}, FieldErrors: map[string]string{},
		LoggedIn: cookieValue(r, accessCookie) != ""}
}

func (s *server) render(w http.ResponseWriter, r *http.Request, status int, page string, d pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	s.assetLinks(r, &d)
	w.WriteHeader(status)
	if err := s.pages[page].ExecuteTemplate(w, "layout", d); err != nil {
		s.log.Error("render page", "page", page, "trace_id", info(r).trace, "err", err)
	}
}

func (s *server) renderMessage(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	d := s.newPage(w, r, title)
	if status >= 400 {
		d.Error = msg
	} else {
		d.Notice = msg
	}
	s.render(w, r, status, "message", d)
}

// showError puts err on the page: field errors beside their fields, other
// known errors on top, internal errors as a generic line with the trace id.
func (s *server) showError(r *http.Request, d *pageData, err error) int {
	var ae *apperr.Error
	switch {
	case errors.Is(err, errGone):
		d.Error = "This link has expired. Ask for a new one below."
		return http.StatusGone
	case errors.As(err, &ae) && ae.Code != apperr.Internal:
		if ae.Code == apperr.Invalid && len(ae.Params) > 0 {
			for _, p := range ae.Params {
				d.FieldErrors[formField(p.Field)] = sentence(p.Reason)
			}
			d.Error = "Please correct the fields below."
		} else {
			d.Error = ae.Message
		}
		return apperr.HTTPStatus(ae.Code)
	}
	s.log.Error("page", "path", r.URL.Path, "trace_id", info(r).trace, "err", err)
	d.Error = "Something went wrong on our side. Please try again; if it persists, quote trace id " + info(r).trace + "."
	return http.StatusInternalServerError
}

// formField maps the API's field names to the forms'.
func formField(f string) string {
	if f == "username" {
		return "email"
	}
	return f
}

func sentence(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// parseForm reads a form post (size-capped) and checks its CSRF token; on
// failure it has already answered.
func (s *server) parseForm(w http.ResponseWriter, r *http.Request, page, title string) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		d := s.newPage(w, r, title)
		d.Error = "The form could not be read. Please try again."
		s.render(w, r, http.StatusBadRequest, page, d)
		return false
	}
	if !csrfOK(r) {
		d := s.newPage(w, r, title)
		d.Error = "This form has expired. Please submit it again."
		d.Token = r.PostForm.Get("token")
		s.setPasswordPage(r, &d)
		s.render(w, r, http.StatusForbidden, page, d)
		return false
	}
	return true
}

func (s *server) assetCSS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(portalCSS)
}

func (s *server) pageNotFound(w http.ResponseWriter, r *http.Request) {
	s.renderMessage(w, r, http.StatusNotFound, "Page not found", "There is no page at this address.")
}

// pageHome shows the portal's front page when its content has one, else
// the built-in welcome.
func (s *server) pageHome(w http.ResponseWriter, r *http.Request) {
	dev, signedIn := s.viewer(w, r)
	if s.servePage(w, r, "/", dev, signedIn) {
		return
	}
	d := s.newPage(w, r, "Welcome to "+portalTitle(info(r).portal))
	d.LoggedIn = signedIn
	s.withSite(r, &d, signedIn)
	s.render(w, r, http.StatusOK, "home", d)
}

func (s *server) pageSignup(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "signup", s.newPage(w, r, "Create your account"))
}

func (s *server) pageSignupPost(w http.ResponseWriter, r *http.Request) {
	const title = "Create your account"
	if !s.parseForm(w, r, "signup", title) {
		return
	}
	d := s.newPage(w, r, title)
	d.Fields["email"], d.Fields["full_name"] = r.PostForm.Get("email"), r.PostForm.Get("full_name")
	err := func() error {
		name, err := checkFullName(d.Fields["full_name"])
		if err != nil {
			return err
		}
		email, err := checkEmail("email", d.Fields["email"])
		if err != nil {
			return err
		}
		d.Fields["email"] = email
		return s.register(r.Context(), r, email, name)
	}()
	if err != nil {
		s.render(w, r, s.showError(r, &d, err), "signup", d)
		return
	}
	d.Title = "Check your email"
	if !reachesPeople(s.mail) {
		// Nothing was sent: the email went to the server log only.
		d.Title, d.NoMail = "Almost done", true
	}
	s.render(w, r, http.StatusOK, "signup_done", d)
}

// loginNotice is the message another flow sends the log-in page to; the
// query names it by key, so no text from the URL reaches the page.
func loginNotice(key string) string {
	switch key {
	case "expired":
		return "Your session has expired. Please log in again."
	case "logged-out":
		return "You have logged out."
	case "password-set":
		return "Your password is set. You can log in now."
	case "signed-in-page":
		return "Log in to see that page."
	case "pending":
		return "Your password is set. An administrator must approve your account before you can log in; you will be able to log in once they have."
	}
	return ""
}

func (s *server) pageLogin(w http.ResponseWriter, r *http.Request) {
	d := s.newPage(w, r, "Log in")
	d.Notice = loginNotice(r.URL.Query().Get("m"))
	if err := s.loginOptions(r, &d); err != nil {
		s.render(w, r, s.showError(r, &d, err), "login", d)
		return
	}
	s.render(w, r, http.StatusOK, "login", d)
}

// pageLoginForm takes the log-in form at /login, so that after a failed
// attempt the browser shows the form again at its own address (posted to
// the API path, the page with the error stood at
// /api/v2/developer/authenticate). The attempt is the developer API's
// authenticate operation and is audited under its path, as Kong's Dev
// Portal logs name it and SIEM rules match it.
func (s *server) pageLoginForm(w http.ResponseWriter, r *http.Request) {
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = "/api/v2/developer/authenticate", ""
	s.pageLoginPost(w, r2)
}

// pageLoginPost is the log-in form, posted to /login (pageLoginForm) or,
// from pages of older releases, to the authenticate endpoint.
func (s *server) pageLoginPost(w http.ResponseWriter, r *http.Request) {
	const title = "Log in"
	if !s.parseForm(w, r, "login", title) {
		return
	}
	d := s.newPage(w, r, title)
	d.Fields["email"] = r.PostForm.Get("email")
	password := r.PostForm.Get("password")
	err := func() error {
		if password == "" {
			return requiredError("password")
		}
		email, err := checkEmail("email", d.Fields["email"])
		if err != nil {
			if strings.TrimSpace(d.Fields["email"]) != "" {
				return s.rejectUsername(r.Context(), r, err)
			}
			return err
		}
		ss, err := s.authenticate(r.Context(), r, email, password)
		if err != nil {
			return err
		}
		s.startSession(w, r, ss)
		return nil
	}()
	if err != nil {
		status := s.showError(r, &d, err)
		if errors.Is(err, errInvalidCredentials) {
			d.Error = "Invalid email or password. After repeated failures, log-in is paused for a while; you can also reset your password."
		}
		s.render(w, r, status, "login", d)
		return
	}
	http.Redirect(w, r, s.landing(r.Context(), info(r).portal.ID), http.StatusSeeOther)
}

func (s *server) pageProfile(w http.ResponseWriter, r *http.Request) {
	dev, err := s.currentDeveloper(r.Context(), r)
	switch {
	case errors.Is(err, errSessionExpired):
		s.clearSessionCookies(w, r)
		http.Redirect(w, r, "/login?m=expired", http.StatusSeeOther)
		return
	case errors.Is(err, errNoSession):
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	case err != nil:
		d := s.newPage(w, r, "Your profile")
		s.render(w, r, s.showError(r, &d, err), "message", d)
		return
	}
	d := s.newPage(w, r, "Your profile")
	d.Dev, d.LoggedIn = dev, true
	s.withSite(r, &d, true)
	s.render(w, r, http.StatusOK, "profile", d)
}

func (s *server) pageLogout(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r, "message", "Log out") {
		return
	}
	if err := s.logout(r.Context(), r); err != nil {
		d := s.newPage(w, r, "Log out")
		s.render(w, r, s.showError(r, &d, err), "message", d)
		return
	}
	s.endSession(w, r)
	http.Redirect(w, r, "/login?m=logged-out", http.StatusSeeOther)
}

func (s *server) pageForgot(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "forgot", s.newPage(w, r, "Forgot your password?"))
}

func (s *server) pageForgotPost(w http.ResponseWriter, r *http.Request) {
	const title = "Forgot your password?"
	if !s.parseForm(w, r, "forgot", title) {
		return
	}
	d := s.newPage(w, r, title)
	d.Fields["email"] = r.PostForm.Get("email")
	err := func() error {
		email, err := checkEmail("email", d.Fields["email"])
		if err != nil {
			return err
		}
		d.Fields["email"] = email
		return s.forgotPassword(r.Context(), r, email)
	}()
	if err != nil {
		s.render(w, r, s.showError(r, &d, err), "forgot", d)
		return
	}
	d.Title = "Check your email"
	s.render(w, r, http.StatusOK, "forgot_done", d)
}

// setPasswordPage fills the set-password page for the path it serves.
func (s *server) setPasswordPage(r *http.Request, d *pageData) {
	d.Action = r.URL.Path
	if r.URL.Path == "/verify-email" {
		d.Title, d.Lead = "Confirm your email", "Choose a password for your account. It must be at least 8 characters long."
	} else if r.URL.Path == "/reset-password" {
		d.Title, d.Lead = "Choose a new password", "It must be at least 8 characters long. Setting it logs you out everywhere."
	}
}

// pageVerify and pageReset only show the form: a GET must not use up the
// token, or a mail scanner following the link would.
func (s *server) pageVerify(w http.ResponseWriter, r *http.Request) { s.pagePassword(w, r) }
func (s *server) pageReset(w http.ResponseWriter, r *http.Request)  { s.pagePassword(w, r) }

func (s *server) pagePassword(w http.ResponseWriter, r *http.Request) {
	d := s.newPage(w, r, "")
	d.Token = r.URL.Query().Get("token")
	s.setPasswordPage(r, &d)
	status := http.StatusOK
	if _, err := checkToken(d.Token); err != nil {
		d.Token = ""
		d.Error = "This link is not valid. Check that you copied all of it, or ask for a new one."
		status = http.StatusBadRequest
	}
	s.render(w, r, status, "password", d)
}

func (s *server) pageVerifyPost(w http.ResponseWriter, r *http.Request) {
	s.pagePasswordPost(w, r, func(ctx context.Context, token, password string) (store.Developer, string, error) {
		_, reset, err := s.verifyEmail(ctx, r, token)
		if err != nil {
			return store.Developer{}, "", err
		}
		return s.resetPassword(ctx, r, reset, password)
	})
}

func (s *server) pageResetPost(w http.ResponseWriter, r *http.Request) {
	s.pagePasswordPost(w, r, func(ctx context.Context, token, password string) (store.Developer, string, error) {
		return s.resetPassword(ctx, r, token, password)
	})
}

func (s *server) pagePasswordPost(w http.ResponseWriter, r *http.Request, set func(ctx context.Context, token, password string) (store.Developer, string, error)) {
	if !s.parseForm(w, r, "password", "") {
		return
	}
	d := s.newPage(w, r, "")
	s.setPasswordPage(r, &d)
	d.Token = r.PostForm.Get("token")
	password := r.PostForm.Get("password")
	dev, device, err := func() (store.Developer, string, error) {
		// Check the password before the token is used up by a typo.
		if err := checkNewPassword(password); err != nil {
			return store.Developer{}, "", err
		}
		if password != r.PostForm.Get("confirm") {
			return store.Developer{}, "", fieldError("Invalid password", "confirm", "invalid", "does not match the password")
		}
		return set(r.Context(), d.Token, password)
	}()
	if err != nil {
		status := s.showError(r, &d, err)
		if apperr.Is(err, apperr.NotFound) || errors.Is(err, errGone) || (apperr.Is(err, apperr.Invalid) && d.FieldErrors["token"] != "") {
			if !errors.Is(err, errGone) {
				d.Error = "This link is not valid or was already used. Ask for a new one below."
			}
			d.Token = ""
		}
		s.render(w, r, status, "password", d)
		return
	}
	s.setDeviceCookie(w, r, device)
	m := "password-set"
	if dev.Status == store.DeveloperPending {
		m = "pending"
	}
	http.Redirect(w, r, "/login?m="+m, http.StatusSeeOther)
}

// isAPI tells API paths, answered with problem+json, from pages.
func isAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") && !isForm(r)
}

func isForm(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
}

// noPortal answers a host that names no portal with a page in the portals'
// look (and its stylesheet, which the page asks this same host for).
func (s *server) noPortal(w http.ResponseWriter, r *http.Request, host string) {
	if r.URL.Path == "/assets/portal.css" && r.Method == http.MethodGet {
		s.assetCSS(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(http.StatusNotFound)
	d := pageData{Title: "No Dev Portal here", Portal: "Dev Portal", NoNav: true, Fields: map[string]string{"host": host}}
	if err := s.pages["noportal"].ExecuteTemplate(w, "layout", d); err != nil {
		s.log.Error("render page", "page", "noportal", "host", host, "err", err)
	}
}
