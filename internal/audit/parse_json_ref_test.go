package audit

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// The encoding/json implementation ParseJSON had before json_scan.go, kept
// as the reference FuzzScanJSONMatchesReference holds the scanner to.

// refParseJSON is the old parser made as strict as the scanner on the two
// points it was lax: invalid UTF-8 (it decoded it to U+FFFD) and a stray '}'
// or ']' after the object (Decoder.More let them through).
func refParseJSON(line []byte) (Entry, error) {
	if !utf8.Valid(line) {
		return Entry{}, fieldErr("", "is not valid UTF-8")
	}
	if refLoneSurrogate(line) {
		return Entry{}, fieldErr("", "is not valid UTF-8 (a lone UTF-16 surrogate escape)")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err == nil {
		if rest := bytes.TrimLeft(line[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
			return Entry{}, fieldErr("", "trailing data after the JSON object")
		}
	}
	return refParseJSONOld(line)
}

// refParseJSONOld is ParseJSON as it was before json_scan.go: it reads one entry in the JSON line format (with or without sig,
// with or without the header keys a server fills in). Unknown keys and wrong
// types are errors. Severity and success, when given, must agree with what
// the rules derive. A zero Time means the line carried neither rt nor
// event_ts; the caller fills it in.
func refParseJSONOld(line []byte) (Entry, error) {
	var j jsonLine
	var e Entry
	if err := refCheckJSONKeys(line); err != nil {
		return e, err
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return e, refJSONDecodeError(err)
	}
	if dec.More() {
		return e, fieldErr("", "trailing data after the JSON object")
	}
	// The field rules are shared: the reference differs only in decoding.
	return entryFromJSONLine(&j)
}

func refJSONDecodeError(err error) error {
	switch t := err.(type) {
	case *json.UnmarshalTypeError:
		return fieldErr(t.Field, "must be of type %s", t.Type.String())
	case *json.SyntaxError:
		return fieldErr("", "malformed JSON at byte %d", t.Offset)
	}
	if s := err.Error(); len(s) > 0 {
		const unknown = "json: unknown field "
		if len(s) > len(unknown) && s[:len(unknown)] == unknown {
			f, _ := strconv.Unquote(s[len(unknown):])
			return fieldErr(f, "unknown field")
		}
	}
	return fieldErr("", "malformed JSON")
}

// refCheckJSONKeys rejects what encoding/json would silently accept: a key
// given twice (the last would win, so a producer's value could be
// overridden inside one line) and keys that differ from the format's only
// by case.
func refCheckJSONKeys(line []byte) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	if t, err := dec.Token(); err != nil {
		return refJSONDecodeError(err)
	} else if d, ok := t.(json.Delim); !ok || d != '{' {
		return fieldErr("", "a line must be one JSON object")
	}
	seen := make(map[string]bool, 32)
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return refJSONDecodeError(err)
		}
		k, _ := t.(string)
		if !refKnownJSONKey(k) {
			return fieldErr(k, "unknown field")
		}
		if seen[k] {
			return fieldErr(k, "given more than once")
		}
		seen[k] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return refJSONDecodeError(err)
		}
	}
	return nil
}

func refKnownJSONKey(k string) bool {
	if k == "sig" {
		return true
	}
	for _, n := range jsonKeyNames {
		if n == k {
			return true
		}
	}
	return false
}

// refLoneSurrogate reports whether a string of line holds a \u escape of a
// UTF-16 surrogate that is not half of a pair. Unlike the scanner, which
// pairs escapes as it goes, it gathers each run of consecutive \u escapes
// and decodes it whole with utf16.Decode: every surrogate must end up in a
// rune beyond the BMP. It reads strings as the scanner does up to any
// syntax error, so a lone surrogate the scanner meets before one is found
// here too (the line is refused either way, and which error comes first
// is the scanner's business).
func refLoneSurrogate(line []byte) bool {
	var run []uint16
	lone := func() bool {
		surrogates, astral := 0, 0
		for _, u := range run {
			if utf16.IsSurrogate(rune(u)) {
				surrogates++
			}
		}
		for _, r := range utf16.Decode(run) {
			if r > 0xFFFF {
				astral++
			}
		}
		run = run[:0]
		return surrogates != 2*astral
	}
	in := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		if !in {
			in = c == '"'
			continue
		}
		if c == '\\' && i+6 <= len(line) && line[i+1] == 'u' {
			if u, err := strconv.ParseUint(string(line[i+2:i+6]), 16, 16); err == nil {
				run = append(run, uint16(u))
				i += 5
				continue
			}
		}
		if lone() {
			return true
		}
		switch c {
		case '\\':
			i++ // a two-character escape
		case '"':
			in = false
		}
	}
	return lone()
}
