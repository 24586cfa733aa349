// Package webform holds what the server-rendered pages (Dev Portal and
// console) share about browser forms: random secrets and their stored
// hashes, and the double-submit CSRF token.
package webform

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
)

// NewSecret returns 256 random bits, base64url-encoded (43 characters):
// session and CSRF secrets.
func NewSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// SecretHash is what a store keeps of a secret.
func SecretHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// CookieValue is the value of the named cookie, "" when absent.
func CookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// CSRFToken returns the form token of this browser, setting its cookie
// (named name) on first use. Forms echo it in a hidden field named
// "csrf" (double submit): a cross-site page can make the browser send the
// cookie but cannot read it to fill the field.
func CSRFToken(w http.ResponseWriter, r *http.Request, name string, secure bool) string {
	if v := CookieValue(r, name); len(v) == 43 {
		return v
	}
	return RotateCSRF(w, r, name, secure)
}

// RotateCSRF gives the browser a new form token, whatever it had, and
// returns it; later CSRFToken calls in this request return the new one.
// Pages call it whenever the session changes (log-in, log-out), so a form
// token seen before a log-in (by another user of the browser, or planted
// by whoever set the cookie) is worth nothing after it.
func RotateCSRF(w http.ResponseWriter, r *http.Request, name string, secure bool) string {
	v := NewSecret()
	// A browser-session cookie: the token outlives no browser restart.
	http.SetCookie(w, &http.Cookie{Name: name, Value: v, Path: "/", HttpOnly: true,
		Secure: secure, SameSite: http.SameSiteStrictMode})
	replaceRequestCookie(r, name, v) // later calls in this request agree
	return v
}

// replaceRequestCookie makes r carry value as its only cookie named name.
func replaceRequestCookie(r *http.Request, name, value string) {
	cookies := r.Cookies()
	r.Header.Del("Cookie")
	for _, c := range cookies {
		if c.Name != name {
			r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	r.AddCookie(&http.Cookie{Name: name, Value: value})
}

// HSTSValue is the Strict-Transport-Security the pages send on https
// answers: one year, this host only (a portal's or the console's
// subdomains may be other services), and no preload (which an operator
// asks of the browsers' lists themselves; it cannot be undone quickly).
const HSTSValue = "max-age=31536000"

// SetHSTS sets Strict-Transport-Security on an answer that goes out over
// https (the request came over TLS, or the operator says a TLS proxy
// fronts the listener); plain http answers never carry it, since a
// browser must not be told to insist on https where there is none.
func SetHSTS(w http.ResponseWriter, https bool) {
	if https {
		w.Header().Set("Strict-Transport-Security", HSTSValue)
	}
}

// CSRFOK checks the posted form token against the cookie, in constant
// time. The form must already be parsed.
func CSRFOK(r *http.Request, name string) bool {
	c := CookieValue(r, name)
	f := r.PostForm.Get("csrf")
	return c != "" && subtle.ConstantTimeCompare([]byte(c), []byte(f)) == 1
}
