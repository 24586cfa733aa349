package portal

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/sigtrail/sigtrail/internal/webform"
)

// Cookie names, as the dev-portal v2 contract spells them.
const (
	accessCookie  = "portalaccesstoken"
	refreshCookie = "portalrefreshtoken"
	csrfCookie    = "portal_csrf"
	// deviceCookie carries the browser's device token (store.PurposeDevice).
	deviceCookie = "portal_device"
	// sessionCookie names the browser's session (store.DeveloperToken.
	// SessionID) for as long as its refresh secret lives: it grants
	// nothing, but a log-in or log-out that gets it ends that session when
	// the access cookie has expired and the refresh cookie does not come
	// (its path is refreshPath).
	sessionCookie = "portal_session"
	// refreshPath scopes the refresh cookie to the one endpoint that reads
	// it, so it travels with as few requests as possible.
	refreshPath = "/api/v2/developer/refresh"
)

// newSecret returns 256 random bits, base64url-encoded: session, refresh
// and CSRF secrets.
func newSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// newEmailToken returns a random UUID (122 random bits): the contract types
// verify-email and reset-password tokens as UUIDs.
func newEmailToken() string { return uuid.NewString() }

// tokenHash is what the store keeps of a secret.
func tokenHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// secure reports whether cookies must be marked Secure: the request came
// over TLS, or the operator says a TLS proxy fronts the listener.
func (s *server) secure(r *http.Request) bool { return r.TLS != nil || s.cfg.SecureCookies }

func (s *server) setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, sameSite http.SameSite, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: path,
		Expires:  expires,
		MaxAge:   int(expires.Sub(s.clk.Now()).Seconds()),
		HttpOnly: true, Secure: s.secure(r), SameSite: sameSite,
	})
}

func (s *server) clearCookie(w http.ResponseWriter, r *http.Request, name, path string, sameSite http.SameSite) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: path, MaxAge: -1,
		HttpOnly: true, Secure: s.secure(r), SameSite: sameSite,
	})
}

// session is a freshly issued pair of access and refresh secrets, and
// the browser's new device token after a password log-in.
type session struct {
	id                    string // store.DeveloperToken.SessionID
	access, refresh       string
	accessExp, refreshExp time.Time
	device                string
}

func (s *server) setSessionCookies(w http.ResponseWriter, r *http.Request, ss session) {
	s.setCookie(w, r, accessCookie, ss.access, "/", http.SameSiteLaxMode, ss.accessExp)
	s.setCookie(w, r, refreshCookie, ss.refresh, refreshPath, http.SameSiteStrictMode, ss.refreshExp)
	s.setCookie(w, r, sessionCookie, ss.id, "/", http.SameSiteLaxMode, ss.refreshExp)
}

func (s *server) clearSessionCookies(w http.ResponseWriter, r *http.Request) {
	s.clearCookie(w, r, accessCookie, "/", http.SameSiteLaxMode)
	s.clearCookie(w, r, refreshCookie, refreshPath, http.SameSiteStrictMode)
	s.clearCookie(w, r, sessionCookie, "/", http.SameSiteLaxMode)
}

// startSession gives the browser the session of a log-in and a new form
// token: a form token is never carried from one session into another.
func (s *server) startSession(w http.ResponseWriter, r *http.Request, ss session) {
	s.setSessionCookies(w, r, ss)
	s.setDeviceCookie(w, r, ss.device)
	webform.RotateCSRF(w, r, csrfCookie, s.secure(r))
}

// setDeviceCookie gives the browser its device token; "" sets nothing.
func (s *server) setDeviceCookie(w http.ResponseWriter, r *http.Request, secret string) {
	if secret != "" {
		http.SetCookie(w, webform.DeviceCookie(deviceCookie, secret, s.secure(r)))
	}
}

// endSession clears the session cookies of a log-out and gives the
// browser a new form token.
func (s *server) endSession(w http.ResponseWriter, r *http.Request) {
	s.clearSessionCookies(w, r)
	webform.RotateCSRF(w, r, csrfCookie, s.secure(r))
}

func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}
