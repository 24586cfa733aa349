package audit

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/gowebpki/jcs"
)

func TestCanonicalItem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want, err string
	}{
		{"sorted, compact, signature left out",
			"{\n  \"type\": \"gateway_access\",\n  \"ts\": \"2026-07-21T09:30:00.123Z\",\n  \"status_code\": 201,\n  \"signature\": \"x\"\n}",
			`{"status_code":201,"ts":"2026-07-21T09:30:00.123Z","type":"gateway_access"}`, ""},
		{"escapes only what JCS escapes",
			`{"ua":"a\u003cb\u003e\u0026\"c\"\\\n\u0001\u2028\u00e9\/"}`,
			`{"ua":"a<b>&\"c\"\\\n\u0001` + "\u2028é" + `/"}`, ""},
		{"keys in UTF-16 order", "{\"\uE000\":1,\"\U0001F600\":2,\"a\":3}", "{\"a\":3,\"\U0001F600\":2,\"\uE000\":1}", ""},
		{"nested values and literals", `{"b":[1,{"y":null,"x":true}],"a":false}`, `{"a":false,"b":[1,{"x":true,"y":null}]}`, ""},
		{"empty object", `{}`, `{}`, ""},
		{"not an object", `[1]`, "", "not a JSON object"},
		{"not JSON", `{"a":`, "", "not JSON"},
		{"trailing data", `{"a":1} {"b":2}`, "", "after its end"},
		{"trailing garbage", `{"a":1}x`, "", "after its end"},
		{"repeated member", `{"trace_id":"a","ts":"t","trace_id":"b"}`, "", `"trace_id" twice`},
		{"repeated member nested", `{"a":[{"k":1,"k":2}]}`, "", `"k" twice`},
		{"surrogate pair", `{"a":"\ud83d\ude00\\ud800"}`, "{\"a\":\"\U0001F600\\\\ud800\"}", ""},
		{"lone high surrogate", `{"a":"\ud800x"}`, "", "lone surrogate"},
		{"high surrogate at the end", `{"a":"\ud800"}`, "", "lone surrogate"},
		{"lone low surrogate", `{"a":"\uDC00"}`, "", "lone surrogate"},
		{"two high surrogates", `{"a":"\ud800\ud800"}`, "", "lone surrogate"},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", "", "UTF-8"},
		{"fraction", `{"status_code":200.5}`, `{"status_code":200.5}`, ""},
		{"exponent", `{"status_code":2e2}`, `{"status_code":200}`, ""},
		{"negative zero", `{"a":-0,"b":-0.0,"c":0e5}`, `{"a":0,"b":0,"c":0}`, ""},
		{"integers beyond 2^53 are doubles", `{"a":9007199254740993,"b":18446744073709551615,"c":-9007199254740993}`,
			`{"a":9007199254740992,"b":18446744073709552000,"c":-9007199254740992}`, ""},
		{"RFC 8785 3.2.2.3 sample", `{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001]}`,
			`{"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}`, ""},
		{"exponent forms as ECMAScript", `{"a":1e21,"b":1e20,"c":0.000001,"d":1e-7,"e":123e-20}`,
			`{"a":1e+21,"b":100000000000000000000,"c":0.000001,"d":1e-7,"e":1.23e-18}`, ""},
		{"beyond doubles", `{"a":1e400}`, "", "beyond IEEE 754"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := CanonicalItem([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %s, %v; want error containing %q", got, err, tc.err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %s, %v\nwant %s", got, err, tc.want)
			}
		})
	}
}

func TestSplitItemSignature(t *testing.T) {
	t.Parallel()
	sig := strings.Repeat("A", SigLen)
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"well-formed", `{"a":1,"signature":"` + sig + `"}`, true},
		{"missing", `{"a":1}`, false},
		{"not a string", `{"a":1,"signature":5}`, false},
		{"too short", `{"a":1,"signature":"AAAA"}`, false},
		{"padded", `{"a":1,"signature":"` + sig[:SigLen-2] + `=="}`, false},
		{"standard alphabet", `{"a":1,"signature":"` + sig[:SigLen-1] + `+"}`, false},
		{"unused bits set", `{"a":1,"signature":"` + sig[:SigLen-1] + `B"}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			msg, raw, err := SplitItemSignature([]byte(tc.in))
			if !tc.ok {
				if err != ErrNoItemSignature {
					t.Fatalf("got %v, want ErrNoItemSignature", err)
				}
				return
			}
			if err != nil || string(msg) != `{"a":1}` || len(raw) != 64 {
				t.Fatalf("got %s, %d bytes, %v", msg, len(raw), err)
			}
		})
	}
}

// FuzzCanonicalItem: pulled items come from files a user hands to sigtrail
// verify. CanonicalItem never panics; what it accepts means what the input
// meant (without the signature), is valid JSON and is its own canonical
// form.
func FuzzCanonicalItem(f *testing.F) {
	f.Add([]byte(`{"type":"gateway_access","ts":"2026-07-21T09:30:00.123Z","status_code":201,"signature":"x"}`))
	f.Add([]byte(`{"ua":"a\u003cb\u003e\"\\\n\u0001\u2028\u00e9","n":[1,{"k":null}]}`))
	f.Add([]byte("{\"\uE000\":1,\"\U0001F600\":2}"))
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Add([]byte(`{"a":1e3,"b":-0}`))
	f.Add([]byte(`{"a":"\ud800\udc00\ud800"}`))
	f.Add([]byte(`{"a":9007199254740993,"b":1E30,"c":-0.0,"d":1e-7,"e":1e400}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := CanonicalItem(in)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid output %q", out)
		}
		var a, b map[string]any
		if err := json.Unmarshal(in, &a); err != nil {
			t.Fatalf("accepted %q that does not decode: %v", in, err)
		}
		delete(a, ItemSignatureMember)
		if err := json.Unmarshal(out, &b); err != nil || !reflect.DeepEqual(a, b) {
			t.Fatalf("%q became %q: meaning changed", in, out)
		}
		again, err := CanonicalItem(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("%q is not its own canonical form: %q, %v", out, again, err)
		}
	})
}

// TestCanonicalNumberRFC8785AppendixB: the IEEE 754 values of RFC 8785's
// Appendix B and the text JCS requires for each.
func TestCanonicalNumberRFC8785AppendixB(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ bits, want string }{
		{"0000000000000000", "0"}, {"8000000000000000", "0"},
		{"0000000000000001", "5e-324"}, {"8000000000000001", "-5e-324"},
		{"7fefffffffffffff", "1.7976931348623157e+308"}, {"ffefffffffffffff", "-1.7976931348623157e+308"},
		{"4340000000000000", "9007199254740992"}, {"c340000000000000", "-9007199254740992"},
		{"4430000000000000", "295147905179352830000"},
		{"44b52d02c7e14af5", "9.999999999999997e+22"}, {"44b52d02c7e14af6", "1e+23"},
		{"44b52d02c7e14af7", "1.0000000000000001e+23"},
		{"444b1ae4d6e2ef4e", "999999999999999700000"}, {"444b1ae4d6e2ef4f", "999999999999999900000"},
		{"444b1ae4d6e2ef50", "1e+21"},
		{"3eb0c6f7a0b5ed8c", "9.999999999999997e-7"}, {"3eb0c6f7a0b5ed8d", "0.000001"},
		{"41b3de4355555553", "333333333.3333332"}, {"41b3de4355555554", "333333333.33333325"},
		{"41b3de4355555555", "333333333.3333333"}, {"41b3de4355555556", "333333333.3333334"},
		{"41b3de4355555557", "333333333.33333343"},
		{"becbf647612f3696", "-0.0000033333333333333333"}, {"43143ff3c1cb0959", "1424953923781206.2"},
	} {
		u, _ := strconv.ParseUint(tc.bits, 16, 64)
		f := math.Float64frombits(u)
		// Through the item path: the shortest decimal that reads back as f.
		in := `{"n":` + strconv.FormatFloat(f, 'g', -1, 64) + `}`
		got, err := CanonicalItem([]byte(in))
		if want := `{"n":` + tc.want + `}`; err != nil || string(got) != want {
			t.Errorf("%s: %s gave %s, %v; want %s", tc.bits, in, got, err, want)
		}
	}
}

// TestCanonicalItemAgreesWithJCS: on items it accepts, CanonicalItem is
// what gowebpki/jcs's whole-document Transform gives.
func TestCanonicalItemAgreesWithJCS(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001]}`,
		`{"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]}`,
		"{\"\uE000\":1,\"\U0001F600\":2,\"a\":3,\"\u00e9\":[-0,9007199254740993]}",
		`{"type":"gateway_access","ts":"2026-07-21T09:30:00.123Z","status_code":201}`,
	} {
		got, err := CanonicalItem([]byte(in))
		want, jerr := jcs.Transform([]byte(in))
		if err != nil || jerr != nil || !bytes.Equal(got, want) {
			t.Errorf("%s:\n got  %s, %v\n jcs  %s, %v", in, got, err, want, jerr)
		}
	}
}
