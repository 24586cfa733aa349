package audit

import (
	"crypto/ed25519"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// writtenSizes are the bytes a value takes in each place a line or item
// writes it, without the quotes around a JSON string.
func writtenSizes(s string) map[string]int {
	item, _ := json.Marshal(s) // the pull API's encoding/json, HTML escaping on
	return map[string]int{
		"cef":  len(appendCEFValue(nil, s)),
		"json": len(appendJSONString(nil, s)) - 2,
		"item": len(item) - 2,
	}
}

func TestTruncateClientText(t *testing.T) {
	t.Parallel()
	const limit = 200
	for _, tc := range []struct {
		name string
		in   string
		cut  bool
	}{
		{"short", "curl/8.5.0", false},
		{"exactly the limit", strings.Repeat("a", limit), false},
		{"one over", strings.Repeat("a", limit+1), true},
		{"header-sized", strings.Repeat("x", 64<<10), true},
		{"escapes count as written", strings.Repeat("=", limit/2+1), true}, // 101 bytes, 202 written in CEF
		{"controls count as written", strings.Repeat("\x01", limit/6+1), true},
		{"tabs count as CEF writes them", strings.Repeat("\t", limit/6+1), true},
		{"invalid bytes count as written", strings.Repeat("\xff", limit/6+1), true},
		{"html escapes of the pull API", strings.Repeat("<", limit/6+1), true},
		{"line separators", strings.Repeat("\u2028", limit/6+1), true},
		{"whole characters only", strings.Repeat("é", limit), true},
		{"four-byte characters", strings.Repeat("𝄞", limit), true},
		{"mixed", strings.Repeat("a=b\\c\n\x85\"|𝄞\xfe<&>", 40), true},
		{"fits when escaped", strings.Repeat("\x01", limit/6), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := TruncateClientText(tc.in, limit)
			if !tc.cut {
				if got != tc.in {
					t.Fatalf("changed a value that fits: %q", got)
				}
				return
			}
			marker := TruncatedMarker + strconv.Itoa(len(tc.in)) + " bytes]"
			if !strings.HasSuffix(got, marker) {
				t.Fatalf("%q does not end with %q", got, marker)
			}
			prefix := strings.TrimSuffix(got, marker)
			if !strings.HasPrefix(tc.in, prefix) {
				t.Fatalf("kept %q, not a prefix of the value", prefix)
			}
			if utf8.ValidString(tc.in) && !utf8.ValidString(got) {
				t.Fatalf("split a character: %q", got)
			}
			for where, n := range writtenSizes(got) {
				if n > limit {
					t.Errorf("%s writes %d bytes, cap %d", where, n, limit)
				}
			}
			// Nothing was dropped that would have fitted: one more
			// character would not.
			if _, n := decodeRune(tc.in, len(prefix)); sizeWithin(tc.in[:len(prefix)+n]+marker, limit) && !strings.ContainsAny(tc.in, `="`) {
				t.Errorf("cut too early: %q would have fitted", tc.in[:len(prefix)+n])
			}
		})
	}
}

// sizeWithin reports whether s is written in at most limit bytes everywhere.
func sizeWithin(s string, limit int) bool {
	for _, n := range writtenSizes(s) {
		if n > limit {
			return false
		}
	}
	return true
}

// TestTruncatedLinesSignAndParse: an entry with truncated fields renders,
// signs, verifies and parses back to the same values in every format.
func TestTruncatedLinesSignAndParse(t *testing.T) {
	t.Parallel()
	s := newTestSigner(t)
	e := Entry{
		Kind: KindAccess, Time: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Product: ProductKonnect,
		ClassID: AccessClassGateway, Name: AccessName, Src: "203.0.113.7", OrgID: "o", TraceID: "t",
		Request:   "/v3/" + strings.Repeat("p=\\\n", 20000),
		Query:     strings.Repeat("q=1&", 20000),
		UserAgent: strings.Repeat("ua\x01\u2028𝄞", 10000),
		Act:       "GET", Status: 401,
	}
	e.CapClientText()
	for _, f := range []struct {
		field string
		got   string
		limit int
	}{{"request", e.Request, MaxRequestText}, {"query", e.Query, MaxQueryText}, {"user_agent", e.UserAgent, MaxUserAgentText}} {
		if !strings.Contains(f.got, TruncatedMarker) || !sizeWithin(f.got, f.limit) {
			t.Fatalf("%s not capped to %d: %d bytes", f.field, f.limit, len(f.got))
		}
	}
	r := Renderer{}
	for _, f := range []Format{FormatCEF, FormatJSON, FormatCPS} {
		line := r.AppendSigned(nil, f, &e, s)
		if len(line) > 6<<10 {
			t.Errorf("%v line is %d bytes", f, len(line))
		}
		msg, sig, err := SplitSignature(line)
		if err != nil || !ed25519.Verify(s.public(), msg, sig) {
			t.Fatalf("%v line does not verify (%v): %s", f, err, line)
		}
		var back Entry
		switch f {
		case FormatCEF:
			l, err := ParseCEF(line)
			if err != nil {
				t.Fatal(err)
			}
			if back, err = l.Entry(); err != nil {
				t.Fatal(err)
			}
		case FormatJSON:
			if back, err = ParseJSON(line); err != nil {
				t.Fatal(err)
			}
		default:
			continue
		}
		if back.Request != e.Request || back.Query != e.Query || back.UserAgent != e.UserAgent {
			t.Errorf("%v: fields do not read back as written", f)
		}
	}
}

func FuzzTruncateClientText(f *testing.F) {
	for _, s := range []string{"", "abc", strings.Repeat("=\x01\xff𝄞<", 50), strings.Repeat("a", 300)} {
		f.Add(s, 100)
	}
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 64 || limit > 1<<16 {
			return
		}
		got := TruncateClientText(s, limit)
		if !sizeWithin(got, limit) {
			t.Fatalf("%q written in more than %d bytes", got, limit)
		}
		if got != s && !strings.HasSuffix(got, " bytes]") {
			t.Fatalf("changed without a marker: %q", got)
		}
		if len(s) <= limit && got != s && sizeWithin(s, len(s)) {
			t.Fatalf("cut a value that fits, written as it is: %q", s)
		}
	})
}
