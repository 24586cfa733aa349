package webform

import (
	"encoding/hex"
	"net/http"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

// DeviceTTL is how long a device cookie (store.PurposeDevice) lasts: a
// log-in with it gives a new one, so a browser in use stays known.
const DeviceTTL = 180 * 24 * time.Hour

// DeviceIssueLimit bounds the new device tokens one account gets (its
// TakeRateToken bucket): 10 at once, then one a day. A browser that brings
// its own token back trades it for a new one outside the limit, so only a
// client that keeps no cookies (a script) meets it; it then logs in without
// one, and the store holds at most about 190 tokens per account
// (DeviceTTL), whatever such a client does.
var DeviceIssueLimit = store.RateLimit{Every: 24 * time.Hour, Burst: 10}

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
