package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/sigtrail/sigtrail/internal/api"
	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/httpx"
	"github.com/sigtrail/sigtrail/internal/store"
)

// call runs one management API operation in-process as user u: the API's
// own validation, authorisation and audit entries apply, naming the user.
// A JSON answer is decoded into out (when not nil); an error answer comes
// back as the apperr it was made from (code, message, field errors).
func (h *Handler) call(r *http.Request, u store.User, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return apperr.Wrap(err, "encode %s %s", method, path)
		}
		rd = bytes.NewReader(b)
	}
	ctx := api.WithPrincipal(r.Context(), api.Principal{UserID: u.ID, OrgID: u.OrgID, Role: u.Role})
	req, err := http.NewRequestWithContext(ctx, method, path, rd)
	if err != nil {
		return apperr.Wrap(err, "request %s %s", method, path)
	}
	// The entries name the browser, as for a request it made itself.
	req.RemoteAddr = r.RemoteAddr
	req.TLS = r.TLS
	for _, k := range []string{"User-Agent", "X-Forwarded-For"} {
		if v := r.Header.Values(k); len(v) > 0 {
			req.Header[k] = v
		}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res := &answer{header: http.Header{}, status: http.StatusOK}
	h.api.ServeHTTP(res, req)
	if res.status >= 400 {
		var p httpx.Problem
		if json.Unmarshal(res.body.Bytes(), &p) != nil || p.Detail == "" {
			return apperr.Wrap(fmt.Errorf("status %d", res.status), "%s %s", method, path)
		}
		if res.status >= 500 {
			return apperr.New(apperr.Unavailable, "%s", p.Detail)
		}
		return &apperr.Error{Code: codeOf(res.status), Message: p.Detail, Params: p.InvalidParameters}
	}
	if out != nil && res.body.Len() > 0 {
		if err := json.Unmarshal(res.body.Bytes(), out); err != nil {
			return apperr.Wrap(err, "decode %s %s", method, path)
		}
	}
	return nil
}

// codeOf maps an API answer's status back to its code.
func codeOf(status int) apperr.Code {
	for _, c := range []apperr.Code{apperr.Invalid, apperr.Unauthorized, apperr.Forbidden, apperr.NotFound,
		apperr.Conflict, apperr.TooLarge, apperr.Unsupported, apperr.RateLimited, apperr.MethodNotAllowed} {
		if apperr.HTTPStatus(c) == status {
			return c
		}
	}
	return apperr.Invalid
}

// answer holds an in-process API answer.
type answer struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (a *answer) Header() http.Header { return a.header }

func (a *answer) WriteHeader(status int) {
	if !a.wrote {
		a.wrote, a.status = true, status
	}
}

func (a *answer) Write(p []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	return a.body.Write(p)
}
