package portal

import "strings"

// etagMatch reports whether an If-None-Match header names etag (RFC 9110
// weak comparison: a W/ prefix is ignored; "*" matches anything).
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
