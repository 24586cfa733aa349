package portal

import (
	"crypto/subtle"
	"net/http"
)

// csrfToken returns the form token of this browser, setting its cookie on
// first use. Forms echo it in a hidden field (double submit): a cross-site
// page can make the browser send the cookie but cannot read it to fill the
// field.
func (s *server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if v := cookieValue(r, csrfCookie); len(v) == 43 {
		return v
	}
	v := newSecret()
	// A browser-session cookie: the token outlives no browser restart.
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: "/", HttpOnly: true,
		Secure: s.secure(r), SameSite: http.SameSiteStrictMode})
	r.AddCookie(&http.Cookie{Name: csrfCookie, Value: v}) // later calls in this request agree
	return v
}

// csrfOK checks the posted form token against the cookie, in constant time.
// The form must already be parsed.
func csrfOK(r *http.Request) bool {
	c := cookieValue(r, csrfCookie)
	f := r.PostForm.Get("csrf")
	return c != "" && subtle.ConstantTimeCompare([]byte(c), []byte(f)) == 1
}

// crossOriginDenied answers a post that the browser says came from another
// site.
func (s *server) crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"status":403,"title":"Forbidden","type":"https://httpstatuses.com/403","instance":"kong:trace:` + info(r).trace + `","detail":"Cross-origin request refused"}` + "\n"))
		return
	}
	s.renderMessage(w, r, http.StatusForbidden, "Request refused", "This form was sent from another site, so it was refused. Open the page again and resubmit it.")
}
