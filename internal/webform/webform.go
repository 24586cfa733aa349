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
	v := NewSecret()
	// A browser-session cookie: the token outlives no browser restart.
	http.SetCookie(w, &http.Cookie{Name: name, Value: v, Path: "/", HttpOnly: true,
		Secure: secure, SameSite: http.SameSiteStrictMode})
	r.AddCookie(&http.Cookie{Name: name, Value: v}) // later calls in this request agree
	return v
}

// CSRFOK checks the posted form token against the cookie, in constant
// time. The form must already be parsed.
func CSRFOK(r *http.Request, name string) bool {
	c := CookieValue(r, name)
	f := r.PostForm.Get("csrf")
	return c != "" && subtle.ConstantTimeCompare([]byte(c), []byte(f)) == 1
}
