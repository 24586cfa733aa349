package audit

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
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
		{"fraction", `{"status_code":200.5}`, "", "not an integer"},
		{"exponent", `{"status_code":2e2}`, "", "not an integer"},
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
