package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// mustNotAppear lists, independently of the encoder, the runes no line may
// hold raw: C0, DEL, C1 (NEL among them), LINE and PARAGRAPH SEPARATOR.
func mustNotAppear(r rune) bool {
	return r <= 0x1f || r == 0x7f || r >= 0x80 && r <= 0x9f || r == 0x2028 || r == 0x2029
}

// lineBreakSplit splits s as Python's str.splitlines does, on every line
// boundary it knows: \n, \r, \r\n, \v, \f, \x1c, \x1d, \x1e, \x85, U+2028
// and U+2029.
func lineBreakSplit(s string) []string {
	var out []string
	start := 0
	for i, r := range s {
		switch r {
		case '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
			if i < start { // the \n of a \r\n already split
				continue
			}
			out = append(out, s[start:i])
			start = i + utf8.RuneLen(r)
			if r == '\r' && strings.HasPrefix(s[start:], "\n") {
				start++
			}
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func TestLineBreakSplit(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]int{"a": 1, "a\n": 1, "a\r\nb": 2, "a\u2028b": 2, "a\u0085b\vc": 3, "": 0, "a\x1cb": 2} {
		if got := len(lineBreakSplit(s)); got != want {
			t.Errorf("%q: %d lines, want %d", s, got, want)
		}
	}
}

// checkOneLine fails unless line is valid UTF-8, holds none of the runes
// of mustNotAppear and reads as one line both to splitlines and to a
// bufio.Scanner.
func checkOneLine(t testing.TB, line []byte) {
	t.Helper()
	if !utf8.Valid(line) {
		t.Fatalf("not valid UTF-8: %q", line)
	}
	if i := bytes.IndexFunc(line, mustNotAppear); i >= 0 {
		r, _ := utf8.DecodeRune(line[i:])
		t.Fatalf("raw %U at byte %d: %q", r, i, line)
	}
	if n := len(lineBreakSplit(string(line))); n != 1 {
		t.Fatalf("splitlines reads %d lines: %q", n, line)
	}
	sc := bufio.NewScanner(bytes.NewReader(line))
	sc.Buffer(nil, len(line)+1)
	n := 0
	for sc.Scan() {
		n++
	}
	if n != 1 {
		t.Fatalf("bufio.Scanner reads %d lines: %q", n, line)
	}
}

// everyField puts v around every string field of every sample entry that
// its kind carries, the header fields included.
func everyField(v string) []Entry {
	var out []Entry
	for _, s := range sampleEntries() {
		e := s.entry
		e.Product, e.ClassID = v+e.Product+v, v+e.ClassID+v
		for _, f := range cefOrder[e.Kind] {
			switch f {
			case fRT, fStatus, fSuccess, fGranted, fKongInitiated:
			default:
				p := stringField(&e, f)
				*p = v + *p + v
			}
		}
		if e.Kind == KindAuthorization {
			e.Name += v
		}
		out = append(out, e)
	}
	return out
}

// checkEntryLines renders e in every format, signed, and holds each line
// to checkOneLine; the CEF line and what sigtrail decode prints of it, and
// the JSON and CPS lines, must give back e as written.
func checkEntryLines(t testing.TB, r Renderer, e Entry) {
	t.Helper()
	signer := newTestSigner(t)
	want := asWritten(e)
	for _, f := range formats {
		line := r.AppendSigned(nil, f, &e, signer)
		checkOneLine(t, line)
		switch f {
		case FormatCEF:
			l, err := ParseCEF(line)
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			back, err := l.Entry()
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			sameEntry(t, back, want)
			dec := l.AppendDecodedJSON(nil)
			checkOneLine(t, dec)
			var d struct{ Extensions map[string]string }
			if err := json.Unmarshal(dec, &d); err != nil {
				t.Fatal(err)
			}
			if d.Extensions["user_agent"] != want.UserAgent {
				t.Fatalf("decode: user_agent %q, want %q", d.Extensions["user_agent"], want.UserAgent)
			}
		case FormatJSON:
			back, err := ParseJSON(line)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			sameEntry(t, back, want)
		}
	}
}

// TestNoRawLineBreaks: each rune that could break a line, alone and in
// company, in every field of every kind, never reaches a line raw, and the
// line reads back to the entry.
func TestNoRawLineBreaks(t *testing.T) {
	t.Parallel()
	var values []string
	for r := rune(0); r <= 0x2029; r++ {
		if mustNotAppear(r) {
			values = append(values, string(r), "a"+string(r)+" trace_id=forged")
		}
	}
	values = append(values, "\r\n", "\xc2\x85", "\x85", "\xe2\x80", "\xe2\x80\xa8\xa8", `\u2028`, `\\u2028`, "\\\u2028")
	for _, v := range values {
		for _, e := range everyField(v) {
			checkEntryLines(t, Renderer{}, e)
		}
	}
}

// TestLineBreakEscapes pins the escapes themselves (linebreak.go).
func TestLineBreakEscapes(t *testing.T) {
	t.Parallel()
	v := "a\u2028b\u2029c\u0085d\x00e\x7ff\tg\nh\ri\u009fj\xffk\\u2028"
	cef := string(appendCEFValue(nil, v))
	if want := `a\u2028b\u2029c\u0085d\u0000e\u007ff\u0009g\nh\ri\u009fj` + "\uFFFD" + `k\\u2028`; cef != want {
		t.Errorf("CEF value:\n got %s\nwant %s", cef, want)
	}
	js := string(appendJSONString(nil, v))
	if want := `"a\u2028b\u2029c\u0085d\u0000e\u007ff\tg\nh\ri\u009fj\ufffdk\\u2028"`; js != want {
		t.Errorf("JSON string:\n got %s\nwant %s", js, want)
	}
	hdr := string(appendCEFHeader(nil, "x|\u2028"))
	if want := `x\|\u2028`; hdr != want {
		t.Errorf("CEF header: got %s, want %s", hdr, want)
	}
}

// TestParseCEFReadsOnlyItsEscapes: ParseCEF turns back the \uXXXX escapes
// sigtrail writes and leaves any other \u text alone.
func TestParseCEFReadsOnlyItsEscapes(t *testing.T) {
	t.Parallel()
	for esc, want := range map[string]string{
		`\u2028`: "\u2028", `\u0085`: "\u0085", `\u0000`: "\x00", `\u007f`: "\x7f", `\u001e`: "\x1e",
		`\u0041`: `\u0041`, `\u2028`[:5]: `\u202`, `\U2028`: `\U2028`, `\u202A`: `\u202A`, `\u000a`: `\u000a`,
		`\u000d`: `\u000d`, `\ud800`: `\ud800`, `\\u2028`: `\u2028`, `\u00850`: "\u00850",
	} {
		l, err := ParseCEF([]byte(`CEF:0|V` + esc + `|P|1.0|C|N|1|a=` + esc + ` b=1`))
		if err != nil {
			t.Fatalf("%s: %v", esc, err)
		}
		if v, _ := l.Get("a"); v != want || l.DeviceVendor != "V"+want {
			t.Errorf("%s: value %q, vendor %q, want %q", esc, v, l.DeviceVendor, want)
		}
	}
}

// FuzzNoRawLineBreaks: whatever the values, every rendered line is one
// valid UTF-8 line without raw controls or line separators, and reads
// back to the entry as written.
func FuzzNoRawLineBreaks(f *testing.F) {
	for _, v := range hostileValues {
		f.Add(v, v, int64(1750688927556))
	}
	f.Add("\u2028", "\u0085", int64(0))
	f.Add("\x1c\x1d\x1e", "\v\f", int64(-1))
	f.Fuzz(func(t *testing.T, a, b string, ms int64) {
		for i, e := range everyField(a) {
			e.Time = time.UnixMilli(ms % 253402300799000).UTC()
			if i%2 == 0 {
				e.UserAgent, e.PrincipalID = b, a+b
			}
			checkEntryLines(t, Renderer{Vendor: b + "V"}, e)
		}
	})
}
