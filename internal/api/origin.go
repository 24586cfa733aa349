package api

import (
	"net/url"
	"strings"

	"github.com/sigtrail/sigtrail/internal/apperr"
)

// keepAuthField confirms that a destination's stored authorization may
// follow its endpoint to another origin. Konnect has no such field: there
// a PATCH of the endpoint alone sends the old secret to the new host, so a
// stolen admin token could collect it. sigtrail refuses that unless the
// request gives the authorization again or sets this field to true.
const keepAuthField = "keep_authorization_on_origin_change"

// checkOriginChange refuses an endpoint change to another origin (scheme,
// host or port) that would carry a stored authorization the request did
// not give, unless keep confirms it. An empty newEndpoint counts as another
// origin (the caller passes it when TLS verification is being turned off).
func checkOriginChange(oldEndpoint, newEndpoint, storedAuth string, authGiven bool, keep *bool) error {
	if storedAuth == "" || authGiven || oldEndpoint == "" || sameOrigin(oldEndpoint, newEndpoint) {
		return nil
	}
	if keep != nil && *keep {
		return nil
	}
	return apperr.InvalidField("body", "authorization", "required",
		"is required when endpoint moves to another origin (scheme, host or port) or skip_ssl_verification is turned on: give authorization again, or set "+
			keepAuthField+" to true to send the stored one there")
}

// sameOrigin compares scheme, host (case-insensitively) and port, with the
// scheme's default port filled in. Anything unparsable is another origin.
func sameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil {
		return false
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) &&
		strings.EqualFold(ua.Hostname(), ub.Hostname()) &&
		portOf(ua) == portOf(ub)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}
