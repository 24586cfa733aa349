package audit

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gowebpki/jcs"
)

// A pulled item is one member of the pull API's data array (the v3
// AuditLog shape). Its signature member signs the rest of the item in RFC
// 8785 (JCS) canonical form, so a client can check it from the item alone.
// The server (when signing) and sigtrail verify (when checking) both use
// CanonicalItem, so the two cannot drift apart.

// ItemSignatureMember is the name of the member that carries an item's
// signature; it is left out of the signed bytes.
const ItemSignatureMember = "signature"

// ErrNoItemSignature is returned for an item without a well-formed
// signature member.
var ErrNoItemSignature = errors.New("item carries no signature")

// CanonicalItem returns the bytes a pulled item's signature covers: the
// item (a JSON object) without its signature member, in RFC 8785 form:
// compact JSON with sorted keys, strings escaping only the quote, the
// backslash and control characters, numbers as ECMAScript writes them.
// Spellings of the same item (whitespace, escapes, member order, 1e3 for
// 1000) share their canonical form, as RFC 8785 intends; input that has no
// single meaning (invalid UTF-8, a lone surrogate escape, a repeated
// member, trailing data, a number no double holds) is refused rather than
// normalized, so items that differ in meaning never share it.
func CanonicalItem(item []byte) ([]byte, error) {
	m, err := decodeItem(item)
	if err != nil {
		return nil, err
	}
	delete(m, ItemSignatureMember)
	return appendCanonical(make([]byte, 0, len(item)), m)
}

// SplitItemSignature returns the signed bytes of a pulled item (as
// CanonicalItem) and its raw 64-byte signature. An item whose signature is
// missing, not a string or not strict base64url of 64 bytes gives
// ErrNoItemSignature.
func SplitItemSignature(item []byte) (msg, sig []byte, err error) {
	m, err := decodeItem(item)
	if err != nil {
		return nil, nil, err
	}
	s, ok := m[ItemSignatureMember].(string)
	if !ok || len(s) != SigLen {
		return nil, nil, ErrNoItemSignature
	}
	if sig, err = decodeSig([]byte(s)); err != nil {
		return nil, nil, ErrNoItemSignature
	}
	delete(m, ItemSignatureMember)
	msg, err = appendCanonical(make([]byte, 0, len(item)), m)
	if err != nil {
		return nil, nil, err
	}
	return msg, sig, nil
}

// decodeItem reads one JSON object, numbers kept as written.
func decodeItem(item []byte) (map[string]any, error) {
	if !utf8.Valid(item) {
		return nil, errors.New("item is not valid UTF-8")
	}
	if err := checkSurrogates(item); err != nil {
		return nil, err
	}
	if err := checkNoDuplicates(item); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(item))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("item is not JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("item has data after its end")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("item is not a JSON object")
	}
	return m, nil
}

// checkNoDuplicates refuses an object that names a member twice at any
// depth: decoders disagree on which one counts, so such an item could show
// a reader one value while the signature covers another.
func checkNoDuplicates(item []byte) error {
	dec := json.NewDecoder(bytes.NewReader(item))
	type frame struct {
		obj  bool
		key  bool // next token in an object is a key
		seen map[string]bool
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // syntax errors are reported by the decoding proper
		}
		if n := len(stack); n > 0 && stack[n-1].obj {
			top := &stack[n-1]
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:n-1]
				continue
			}
			if top.key {
				k, _ := tok.(string)
				if top.seen[k] {
					return fmt.Errorf("item has the member %q twice", k)
				}
				top.seen[k] = true
				top.key = false
				continue
			}
			top.key = true // a value: the next token is a key again
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{obj: true, key: true, seen: map[string]bool{}})
		case json.Delim('['):
			stack = append(stack, frame{})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) == 0 {
			return nil
		}
	}
}

// checkSurrogates refuses a \u escape of half a surrogate pair, which
// decoders silently turn into U+FFFD (so "\ud800" would pass for "\ufffd").
// Backslashes occur only inside strings in JSON, so no string tracking is
// needed; on malformed JSON it may stop early, and decoding reports it.
func checkSurrogates(item []byte) error {
	for i := 0; i < len(item); i++ {
		if item[i] != '\\' {
			continue
		}
		i++
		if i >= len(item) || item[i] != 'u' {
			continue // a two-character escape, skipped whole
		}
		r, ok := hex4(item, i+1)
		if !ok {
			return nil
		}
		i += 4
		switch {
		case r >= 0xdc00 && r <= 0xdfff:
			return errors.New("item has a lone surrogate escape")
		case r >= 0xd800 && r <= 0xdbff:
			if i+6 >= len(item) || item[i+1] != '\\' || item[i+2] != 'u' {
				return errors.New("item has a lone surrogate escape")
			}
			lo, ok := hex4(item, i+3)
			if !ok || lo < 0xdc00 || lo > 0xdfff {
				return errors.New("item has a lone surrogate escape")
			}
			i += 6
		}
	}
	return nil
}

// hex4 reads the four hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// appendCanonical writes v in RFC 8785 form: numbers as ECMAScript writes
// doubles (appendCanonicalNumber), object keys sorted by UTF-16 code units
// (the same as byte order for the ASCII keys of the v3 shapes).
func appendCanonical(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case json.Number:
		return appendCanonicalNumber(b, v)
	case string:
		return appendCanonicalString(b, v), nil
	case []any:
		b = append(b, '[')
		for i, x := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendCanonical(b, x); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, compareUTF16)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCanonicalString(b, k)
			b = append(b, ':')
			var err error
			if b, err = appendCanonical(b, v[k]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	return nil, fmt.Errorf("unexpected %T", v)
}

// compareUTF16 orders strings by their UTF-16 code units (RFC 8785 3.2.3).
// That is byte order except that characters beyond U+FFFF (surrogate
// pairs, D800-DFFF) sort before U+E000-U+FFFF.
func compareUTF16(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			return cmp.Compare(utf16Key(ra), utf16Key(rb))
		}
		a, b = a[na:], b[nb:]
	}
	return cmp.Compare(len(a), len(b))
}

// utf16Key is a rune's UTF-16 code units packed high first, so comparing
// keys compares the units.
func utf16Key(r rune) uint32 {
	if r >= 0x10000 {
		r1, r2 := utf16.EncodeRune(r)
		return uint32(r1)<<16 | uint32(r2)
	}
	return uint32(r) << 16
}

// appendCanonicalString escapes as RFC 8785 does: the two-character forms
// for '"', '\\', \b, \f, \n, \r, \t, \u00xx for other control characters,
// everything else as raw UTF-8.
func appendCanonicalString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			} else {
				b = append(b, c)
			}
		}
	}
	return append(b, '"')
}

// appendCanonicalNumber writes a JSON number as RFC 8785 3.2.2.3 says: the
// IEEE 754 double it denotes, in ECMAScript's Number-to-String form
// (shortest round trip, -0 as 0, 1e+21 and 1e-7 in exponent form, integers
// past 2^53 rounded to a double). That formatting is the subtle part of
// JCS, so it is gowebpki/jcs's, a maintained implementation whose tests
// carry RFC 8785's Appendix B; a number beyond the doubles is refused.
func appendCanonicalNumber(b []byte, n json.Number) ([]byte, error) {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return nil, fmt.Errorf("number %s is beyond IEEE 754 doubles", n)
	}
	s, err := jcs.NumberToJSON(f)
	if err != nil {
		return nil, fmt.Errorf("number %s: %v", n, err)
	}
	return append(b, s...), nil
}
