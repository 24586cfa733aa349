package webform

import (
	"encoding/hex"
	"net/http"
	"time"
)

// DeviceTTL is how long a device cookie (store.PurposeDevice) lasts: a
// log-in with it gives a new one, so a browser in use stays known.
const DeviceTTL = 180 * 24 * time.Hour

// DeviceCookie is the cookie that carries a device token: long-lived,
// HttpOnly, host-only (no Domain), SameSite=Strict (only the same site's
// log-in form reads it), Secure over https.
func DeviceCookie(name, secret string, secure bool) *http.Cookie {
	return &http.Cookie{Name: name, Value: secret, Path: "/", MaxAge: int(DeviceTTL.Seconds()),
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode}
}

// DeviceSecret is the device token the request presents under name, or
// "" when it carries none that could be one (NewSecret's 43 characters).
func DeviceSecret(r *http.Request, name string) string {
	if v := CookieValue(r, name); len(v) == 43 {
		return v
	}
	return ""
}

// DeviceBucket names the rate bucket of a device token's attempts
// (store.LockoutPolicy.DeviceLimit) after its stored hash, never the
// secret, so the bucket table gives away no cookie.
func DeviceBucket(prefix string, hash []byte) string {
	return prefix + hex.EncodeToString(hash[:16])
}
