package audit

import (
	"errors"
	"strings"
	"testing"
)

// jsonScanSeeds are lines that reach each branch of the scanner; the
// differential fuzz test starts from them.
var jsonScanSeeds = []string{
	`{"event_class_id":"AUTHENTICATION_TYPE_BASIC","name":"AUTHENTICATION_OUTCOME_SUCCESS","request":"/login","success":true,"src":"203.0.113.7","principal_id":"3f1c","trace_id":"t-1","user_agent":"curl/8.5.0"}`,
	`{"name":"Ingress","status":200,"rt":1684196881193,"request":"/a?b","act":"GET","query":"b=1","severity":1}`,
	`{"name":"Authz.portals","granted":false,"action":"list","kong_initiated":"true","event_ts":"2023-05-16T00:28:01.193Z","sig":"x"}`,
	`{"name":"Ingress","status":200,"status":500}`,
	`{"name":"Ingress","Status":200}`,
	`{"name":"Ingress","status":"200"}`,
	`{"name":"Ingress","status":2.0e2}`,
	`{"name":"Ingress","status":99999999999999999999}`,
	`{"name":"Ingress","status":200,"src":{"a":[1,-2.5e+3,true,false,null,"x"]}}`,
	`{"name":"Ingress","status":200,"src":null}`,
	`{"n\u0061me":"Ingress","status":200,"user_agent":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\ud800x\udc00"}`,
	` { "name" : "Ingress" , "status" : 200 } `,
	`{"name":"Ingress","status":200,"src":"\ud83d\ude00\ud83d"}`,
	`{"name":"Ingress","status":200,"src":{"k\udc00":["\\ud800","\ud800\u0041"]}}`,
	`{"name":"Ingress","status":"x","src":"\udbff\udfff\\"}`,
	`{"name":"Ingress","status":200} {}`,
	`{"name":"Ingress","status":200}}`,
	`{"name":"Ingress","status":200,}`,
	`{"name":"Ingress","status":01}`,
	`{"name":"Ingress","status":-0}`,
	`{"name":"Ingress","status":200,"success":tru}`,
	`{"name":"Ingress","status":200`,
	`{}`,
	`[]`,
	`"name"`,
	``,
	"{\"name\":\"Ingress\",\"status\":200,\"src\":\"\xff\"}",
	"{\"name\":\"Ingress\",\"status\":200,\"src\":\"a\tb\"}",
}

// TestScanJSONLine checks the cases the format cares about by name: what
// each reason and field is, not only that the reference agrees.
func TestScanJSONLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, line    string
		field, reason string // reason prefix; both empty: accepted
		check         func(Entry) bool
	}{
		{"escapes and a surrogate pair", `{"name":"Ingress","status":200,"user_agent":"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}`, "", "",
			func(e Entry) bool { return e.UserAgent == "a\"\\/\b\f\n\r\té😀" }},
		// encoding/json made a lone surrogate U+FFFD, text the sender never
		// wrote: refused, as raw invalid UTF-8 is.
		{"lone high surrogate", `{"name":"Ingress","status":200,"src":"\ud800x"}`, "", "is not valid UTF-8", nil},
		{"lone low surrogate", `{"name":"Ingress","status":200,"src":"x\udc00"}`, "", "is not valid UTF-8", nil},
		{"high surrogate before a BMP escape", `{"name":"Ingress","status":200,"src":"\ud800\u0041"}`, "", "is not valid UTF-8", nil},
		{"high surrogate at the end", `{"name":"Ingress","status":200,"src":"\uDBFF"}`, "", "is not valid UTF-8", nil},
		{"escaped backslash before u", `{"name":"Ingress","status":200,"src":"\\ud800"}`, "", "",
			func(e Entry) bool { return e.Src == `\ud800` }},
		{"escaped key", `{"n\u0061me":"Ingress","status":200}`, "", "", func(e Entry) bool { return e.Kind == KindAccess }},
		{"null is absent", `{"name":"Ingress","status":200,"src":null,"rt":null}`, "", "",
			func(e Entry) bool { return e.Src == "" && e.Time.IsZero() }},
		{"whitespace", " {\t\"name\" :\r\n\"Ingress\" , \"status\":200 } ", "", "", func(e Entry) bool { return e.Status == 200 }},
		{"rt", `{"name":"Ingress","status":200,"rt":-1}`, "", "", func(e Entry) bool { return e.Time.UnixMilli() == -1 }},
		{"duplicate", `{"name":"Ingress","status":200,"status":500}`, "status", "given more than once", nil},
		{"duplicate after null", `{"name":"Ingress","src":null,"src":"x","status":200}`, "src", "given more than once", nil},
		{"unknown", `{"name":"Ingress","Status":200}`, "Status", "unknown field", nil},
		{"string for int", `{"name":"Ingress","status":"200"}`, "status", "must be of type int", nil},
		{"fraction for int", `{"name":"Ingress","status":200.0}`, "status", "must be of type int", nil},
		{"overflow for int64", `{"name":"Ingress","status":200,"rt":9223372036854775808}`, "rt", "must be of type int64", nil},
		{"number for string", `{"name":1}`, "name", "must be of type string", nil},
		{"object for bool", `{"name":"Ingress","success":{"a":[]}}`, "success", "must be of type bool", nil},
		{"number for sig", `{"name":"Ingress","status":200,"sig":1}`, "sig", "must be of type string", nil},
		{"syntax wins over an earlier type error", `{"name":"Ingress","status":"200","src":x}`, "", "malformed JSON", nil},
		{"leading zero", `{"name":"Ingress","status":0200}`, "", "malformed JSON", nil},
		{"trailing comma", `{"name":"Ingress","status":200,}`, "", "malformed JSON", nil},
		{"truncated", `{"name":"Ingress","status":200`, "", "malformed JSON", nil},
		{"bad escape", `{"name":"Ingress","status":200,"src":"\x"}`, "", "malformed JSON", nil},
		{"short \\u", `{"name":"Ingress","status":200,"src":"\u12"}`, "", "malformed JSON", nil},
		{"control character", "{\"name\":\"Ingress\",\"status\":200,\"src\":\"a\nb\"}", "", "malformed JSON", nil},
		{"mismatched brackets", `{"name":"Ingress","status":200,"src":[1}}`, "", "malformed JSON", nil},
		{"invalid UTF-8", "{\"name\":\"Ingress\",\"status\":200,\"src\":\"\xc3\"}", "", "is not valid UTF-8", nil},
		{"trailing object", `{"name":"Ingress","status":200} {}`, "", "trailing data", nil},
		{"trailing brace", `{"name":"Ingress","status":200}}`, "", "trailing data", nil},
		{"array", `[{"name":"Ingress"}]`, "", "a line must be one JSON object", nil},
		{"empty", ``, "", "malformed JSON", nil},
		{"too deep", `{"src":` + strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth) + `}`, "", "malformed JSON", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := ParseJSON([]byte(tc.line))
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if !tc.check(e) {
					t.Fatalf("wrong entry: %+v", e)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || !strings.HasPrefix(fe.Reason, tc.reason) {
				t.Fatalf("got %v, want %q: %q...", err, tc.field, tc.reason)
			}
		})
	}
}

// FuzzScanJSONMatchesReference: for any input, the scanner and the
// encoding/json reference both accept with the same entry or both reject;
// a rejection naming a field names the same field for the same reason.
func FuzzScanJSONMatchesReference(f *testing.F) {
	for _, s := range jsonScanSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		got, gerr := ParseJSON(line)
		want, werr := refParseJSON(line)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("%q: scanner %v, reference %v", line, gerr, werr)
		}
		if gerr == nil {
			if got != want {
				t.Fatalf("%q: entries differ:\n scanner   %+v\n reference %+v", line, got, want)
			}
			return
		}
		var gfe, wfe *FieldError
		if !errors.As(gerr, &gfe) || !errors.As(werr, &wfe) {
			t.Fatalf("%q: not field errors: scanner %v, reference %v", line, gerr, werr)
		}
		if wfe.Field != "" && (gfe.Field != wfe.Field || gfe.Reason != wfe.Reason) {
			t.Fatalf("%q: scanner %v, reference %v", line, gerr, werr)
		}
	})
}

// BenchmarkParseJSON parses a typical ingest line (a Konnect login, as the
// bench sends) with the scanner and with the encoding/json reference.
func BenchmarkParseJSON(b *testing.B) {
	line := []byte(`{"event_class_id":"AUTHENTICATION_TYPE_BASIC","name":"AUTHENTICATION_OUTCOME_SUCCESS","request":"/login","success":true,"src":"203.0.113.7","principal_id":"5b3ab0f2-6d8e-4cc5-9d37-2bb7e8c7a6f1","trace_id":"b0e5c6e4-34a8-4f6c-9f0a-0d2f2e1e7c11","user_agent":"Mozilla/5.0 (X11; Linux x86_64) sigtrail-bench","rt":1764090000000}`)
	for _, p := range []struct {
		name  string
		parse func([]byte) (Entry, error)
	}{{"scanner", ParseJSON}, {"reference", refParseJSON}} {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				if _, err := p.parse(line); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
