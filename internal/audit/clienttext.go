package audit

import (
	"strconv"
	"unicode/utf8"
)

// The most a field a client controls may take in a line, counted as
// written (see TruncateClientText). Without a cap one request could put up
// to the server's header limit (64 KiB) in each of them, durably, in
// every line delivered.
const (
	MaxRequestText   = 1024 // request: the path
	MaxQueryText     = 2048 // query: the raw query string
	MaxUserAgentText = 512  // user_agent
)

// TruncatedMarker starts the text that ends a truncated value:
// "...[truncated from N bytes]", N the value's length as received.
const TruncatedMarker = "...[truncated from "

// CapClientText truncates the fields of e that the client of a request
// controls (request, query, user_agent) to their caps, so an entry stays
// small whatever a client sends.
func (e *Entry) CapClientText() {
	e.Request = TruncateClientText(e.Request, MaxRequestText)
	e.Query = TruncateClientText(e.Query, MaxQueryText)
	e.UserAgent = TruncateClientText(e.UserAgent, MaxUserAgentText)
}

// TruncateClientText returns s unchanged when it takes at most limit bytes
// as written in any format (CEF, JSON, CPS, the pull API's JSON), where a
// character counts as the longest any of them writes it (a control
// character, an invalid byte or "<" as six, "\", "=" or a quote as two;
// linebreak.go).
// Otherwise it returns the longest prefix of whole characters that fits
// with the marker "...[truncated from N bytes]" after it, N being len(s):
// the result is at most limit bytes as written, valid in every format, and
// signed and verified as any other text. limit must exceed the marker's
// length (about 40 bytes).
func TruncateClientText(s string, limit int) string {
	if len(s) <= limit/6 {
		return s // even all escaped, it fits
	}
	cost := 0
	for i := 0; i < len(s); {
		r, n := decodeRune(s, i)
		if cost += writtenLen(r, n); cost > limit {
			return truncate(s, limit)
		}
		i += n
	}
	return s
}

func truncate(s string, limit int) string {
	marker := TruncatedMarker + strconv.Itoa(len(s)) + " bytes]"
	room, cost, end := limit-len(marker), 0, 0
	for end < len(s) {
		r, n := decodeRune(s, end)
		if cost += writtenLen(r, n); cost > room {
			break
		}
		end += n
	}
	return s[:end] + marker
}

// decodeRune decodes the rune at s[i]; an invalid byte is utf8.RuneError
// of size 1.
func decodeRune(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// writtenLen is the most bytes any format writes for the rune r that took
// n bytes in the value.
func writtenLen(r rune, n int) int {
	switch {
	case r == utf8.RuneError && n == 1:
		return 6 // JSON's \ufffd
	case r == '\n' || r == '\r':
		return 2
	case breaksLine(r):
		return 6 // \u0009, \u0085, \u2028 (linebreak.go)
	case r == '<' || r == '>' || r == '&':
		return 6 // encoding/json in the pull API: \u003c
	case r == '\\' || r == '=' || r == '"':
		return 2
	}
	return n
}
