package api

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/netguard"
	"github.com/sigtrail/sigtrail/internal/store"
)

// canonicalUUID accepts only the 36-character hyphenated form and returns
// it in lower case, the form IDs are stored in.
func canonicalUUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return "", false
	}
	return u.String(), true
}

// newID returns a UUIDv7: time-ordered, so lists ordered by ID are in
// creation order.
func newID() (string, error) {
	u, err := uuid.NewV7()
	if err != nil {
		return "", apperr.Wrap(err, "new id")
	}
	return u.String(), nil
}

// Limits on free-text fields.
const (
	maxNameLen          = 255
	maxDescriptionLen   = 512
	maxEndpointLen      = 2048
	maxAuthorizationLen = 8192
)

// checkText validates a free-text field: present, at most max characters,
// no control characters.
func checkText(field, v string, max int, required bool) error {
	if strings.TrimSpace(v) == "" {
		if required {
			return apperr.InvalidField("body", field, "required", "cannot be blank")
		}
		return nil
	}
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > max {
		return apperr.InvalidField("body", field, "invalid", "must be valid text of at most "+strconv.Itoa(max)+" characters")
	}
	if strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return apperr.InvalidField("body", field, "invalid", "must not contain control characters")
	}
	return nil
}

// checkEndpoint validates a destination endpoint: an absolute https:// URL
// whose host is a DNS name or a canonical address outside every IANA
// special-purpose range (netguard), unless insecure allows http:// and such
// hosts for local trials. Names are checked again on the resolved address
// at dial time by delivery; this catches the obvious cases early and
// clearly.
func checkEndpoint(v string, insecure bool) error {
	if strings.TrimSpace(v) == "" {
		return apperr.InvalidField("body", "endpoint", "required", "cannot be blank")
	}
	bad := func(reason string) error { return apperr.InvalidField("body", "endpoint", "invalid", reason) }
	if len(v) > maxEndpointLen || strings.IndexFunc(v, unicode.IsControl) >= 0 || strings.ContainsAny(v, " \t") {
		return bad("must be a valid URL")
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return bad("must be a valid URL")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !insecure {
			return bad("must use https")
		}
	default:
		return bad("must be an https URL")
	}
	if u.User != nil {
		return bad("must not carry credentials; use authorization")
	}
	if u.Fragment != "" {
		return bad("must not have a fragment")
	}
	host := u.Hostname()
	if host == "" {
		return bad("must name a host")
	}
	if p := u.Port(); p != "" {
		if n, ok := atoiPort(p); !ok || n == 0 {
			return bad("must have a valid port")
		}
	}
	if insecure {
		return nil
	}
	// Any special-purpose address, and any numeric spelling other than the
	// canonical one (127.1, 0x7f000001, ...), which resolvers would read as
	// an address where this check might not.
	if reason := netguard.CheckHost(host); reason != "" {
		return bad(reason)
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	lh := strings.ToLower(strings.TrimSuffix(host, "."))
	if lh == "localhost" || strings.HasSuffix(lh, ".localhost") {
		return bad("must not point at localhost")
	}
	if !validHostname(lh) {
		return bad("must name a valid host")
	}
	return nil
}

func validHostname(h string) bool {
	if len(h) == 0 || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

func atoiPort(s string) (int, bool) {
	if len(s) > 5 {
		return 0, false
	}
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	return n, n <= 65535
}

// checkAuthorization validates the header value a destination sends: it
// must fit in an HTTP header.
func checkAuthorization(v string, required bool) error {
	if v == "" {
		if required {
			return apperr.InvalidField("body", "authorization", "required", "cannot be blank")
		}
		return nil
	}
	if len(v) > maxAuthorizationLen {
		return apperr.InvalidField("body", "authorization", "invalid", "must be at most "+strconv.Itoa(maxAuthorizationLen)+" bytes")
	}
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < 0x20 && b != '\t' || b == 0x7f {
			return apperr.InvalidField("body", "authorization", "invalid", "must be a valid HTTP header value")
		}
	}
	return nil
}

// parseLogFormat validates log_format.
func parseLogFormat(v string) (audit.Format, error) {
	f, err := audit.ParseFormat(v)
	if err != nil {
		return "", apperr.InvalidField("body", "log_format", "invalid", "must be one of cef, json, cps")
	}
	return f, nil
}

// orderingField is the sigtrail-only destination field that picks how a
// webhook treats a batch whose retries ran out (store.OrderingStrict,
// store.OrderingBestEffort); docs/operations.md weighs the two.
const orderingField = "ordering"

// parseOrdering validates ordering.
func parseOrdering(v string) (string, error) {
	switch v {
	case store.OrderingStrict, store.OrderingBestEffort:
		return v, nil
	}
	return "", apperr.InvalidField("body", orderingField, "invalid", "must be one of best_effort, strict")
}
