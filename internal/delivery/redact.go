package delivery

import (
	"encoding/base64"
	"net/url"
	"strings"
	"unicode/utf8"
)

// maxExcerpt caps the part of a SIEM's answer kept in the webhook status.
const maxExcerpt = 256

// redacted replaces a secret found in an answer.
const redacted = "[REDACTED]"

// secretsOf lists what must never appear in a status message: the stored
// authorization value, its credential part (after "Bearer ", "Basic ", any
// scheme) and, for Basic, the decoded user:password and password. SIEMs
// echo the Authorization header in error bodies, and status is readable
// by read-only tokens.
func secretsOf(authorization string) []string {
	a := strings.TrimSpace(authorization)
	if a == "" {
		return nil
	}
	out := []string{a}
	// The scheme ends at any whitespace: "Basic\tcred" is accepted too.
	if i := strings.IndexAny(a, " \t"); i > 0 {
		scheme, cred := a[:i], strings.TrimSpace(a[i+1:])
		out = append(out, cred)
		if strings.EqualFold(scheme, "basic") {
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
				if dec, err := enc.DecodeString(cred); err == nil && len(dec) > 0 {
					out = append(out, string(dec))
					if _, pw, ok := strings.Cut(string(dec), ":"); ok {
						out = append(out, pw)
					}
					break
				}
			}
		}
	}
	// Short fragments would blank innocent text and a 1-byte "secret" is no
	// secret; longest first so a whole value is replaced before its parts.
	keep := out[:0]
	for _, s := range out {
		if len(s) >= 4 {
			keep = append(keep, s)
		}
	}
	for i := 1; i < len(keep); i++ {
		for j := i; j > 0 && len(keep[j]) > len(keep[j-1]); j-- {
			keep[j], keep[j-1] = keep[j-1], keep[j]
		}
	}
	return keep
}

// redact replaces every occurrence of each secret, ignoring ASCII case
// (a header echoed as "bearer ..." is still the secret). ASCII folding
// keeps byte offsets equal between s and its folded copy.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		fs, fsec := asciiLower(s), asciiLower(sec)
		if !strings.Contains(fs, fsec) {
			continue
		}
		var b strings.Builder
		for {
			i := strings.Index(fs, fsec)
			if i < 0 {
				break
			}
			b.WriteString(s[:i])
			b.WriteString(redacted)
			s, fs = s[i+len(sec):], fs[i+len(sec):]
		}
		b.WriteString(s)
		s = b.String()
	}
	return s
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// echoWindow is the length of a run of a secret's letters and digits whose
// presence in an excerpt means the secret was echoed in some spelling the
// exact match missed (JSON "\/" or "\u002B", percent-encoding, a line
// wrap, UTF-16).
const echoWindow = 8

// echoes reports whether s still holds echoWindow consecutive letters or
// digits of a secret, ignoring case and everything else: the fail-closed
// check after redaction, since a SIEM may escape a secret in ways no list
// of encodings covers.
func echoes(s string, secrets []string) bool {
	if dec, err := url.QueryUnescape(s); err == nil && dec != s && echoes(dec, secrets) {
		return true
	}
	hay := alnumLower(s)
	for _, sec := range secrets {
		a := alnumLower(sec)
		for i := 0; i+echoWindow <= len(a); i++ {
			if strings.Contains(hay, a[i:i+echoWindow]) {
				return true
			}
		}
	}
	return false
}

func alnumLower(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			b = append(b, c)
		case 'A' <= c && c <= 'Z':
			b = append(b, c+'a'-'A')
		}
	}
	return string(b)
}

// withheld stands for a body that still echoed a secret after redaction.
const withheld = "[body withheld: it echoes the destination's credentials]"

// sanitize makes an answer's body fit for the status: secrets redacted,
// valid UTF-8, no control characters or line separators (C0, DEL, C1,
// U+2028, U+2029 become spaces), runs of space collapsed, and at most
// maxExcerpt bytes cut on a rune boundary. Redaction runs again after each
// rewrite, since dropping bytes could join a secret's pieces.
func sanitize(body string, secrets []string) string {
	s := redact(body, secrets)
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, redact(s, secrets))
	s = redact(strings.Join(strings.Fields(s), " "), secrets)
	if echoes(s, secrets) {
		return withheld
	}
	if len(s) > maxExcerpt {
		cut := maxExcerpt
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}
