package audit

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Renderer formats entries for one deployment: the vendor and host written in
// every line are settings, not constants.
type Renderer struct {
	Vendor string // CEF device vendor; DefaultVendor when empty
	Host   string // the host after the timestamp; DefaultHost when empty
}

func (r Renderer) vendor() string {
	if r.Vendor == "" {
		return DefaultVendor
	}
	return r.Vendor
}

func (r Renderer) host() string {
	if r.Host == "" {
		return DefaultHost
	}
	return r.Host
}

const tsLayout = "2006-01-02T15:04:05Z07:00"

// AppendCEF appends the unsigned CEF line of e to dst.
func (r Renderer) AppendCEF(dst []byte, e *Entry) []byte {
	dst = e.Time.UTC().Truncate(time.Second).AppendFormat(dst, tsLayout)
	dst = append(dst, ' ')
	dst = appendCEFHeader(dst, r.host()) // a host never holds a space: config validates it
	dst = append(dst, " CEF:0|"...)
	dst = appendCEFHeader(dst, r.vendor())
	dst = append(dst, '|')
	dst = appendCEFHeader(dst, e.Product)
	dst = append(dst, '|')
	dst = append(dst, EventVersion...)
	dst = append(dst, '|')
	dst = appendCEFHeader(dst, e.ClassID)
	dst = append(dst, '|')
	dst = appendCEFHeader(dst, e.Name)
	dst = append(dst, '|')
	dst = strconv.AppendInt(dst, int64(e.Severity()), 10)
	dst = append(dst, '|')
	if !validKind(e.Kind) {
		return dst
	}
	first := true
	for _, f := range cefOrder[e.Kind] {
		if !present(e, f) {
			continue
		}
		if !first {
			dst = append(dst, ' ')
		}
		first = false
		dst = append(dst, fieldKeys[f]...)
		dst = append(dst, '=')
		switch f {
		case fRT:
			dst = strconv.AppendInt(dst, e.Time.UnixMilli(), 10)
		case fSuccess:
			dst = strconv.AppendBool(dst, e.Success())
		case fGranted:
			dst = strconv.AppendBool(dst, e.Granted)
		case fStatus:
			dst = strconv.AppendInt(dst, int64(e.Status), 10)
		default:
			dst = appendCEFValue(dst, stringValue(e, f))
		}
	}
	return dst
}

// appendCEFHeader escapes a header field: backslash and pipe per the CEF
// rules, and line breaks and controls as in linebreak.go.
func appendCEFHeader(dst []byte, s string) []byte { return appendCEFEscaped(dst, s, '|') }

// appendCEFValue escapes an extension value: backslash, equals sign, CR and
// LF, and the other controls as in linebreak.go. With '=' always escaped, a
// user-controlled value can never start a field of its own.
func appendCEFValue(dst []byte, s string) []byte { return appendCEFEscaped(dst, s, '=') }

// appendCEFEscaped escapes backslash, the separator sep, LF and CR; writes
// the other runes that could break a line as \uXXXX and invalid UTF-8 as
// U+FFFD (see linebreak.go).
func appendCEFEscaped(dst []byte, s string, sep byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			if c == '\\' || c == sep {
				dst = append(dst, '\\')
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		switch {
		case r == '\n':
			dst = append(dst, '\\', 'n')
		case r == '\r':
			dst = append(dst, '\\', 'r')
		case breaksLine(r):
			dst = appendUEscape(dst, r)
		case r == utf8.RuneError && size == 1:
			dst = utf8.AppendRune(dst, utf8.RuneError)
		default:
			dst = append(dst, s[i-size:i]...)
		}
	}
	return dst
}
