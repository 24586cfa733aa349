package audit

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseCEF(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		line string
		want CEFLine
	}{
		{"kong prefix", `2025-06-23T14:28:47Z konghq.com CEF:0|KongInc|Dev-Portal|1.0|AUTHENTICATION_TYPE_BASIC|AUTHENTICATION_OUTCOME_SUCCESS|0|rt=1 user_agent= sig=x`,
			CEFLine{Prefix: "2025-06-23T14:28:47Z konghq.com", Version: "0", DeviceVendor: "KongInc", DeviceProduct: "Dev-Portal",
				DeviceVersion: "1.0", DeviceEventClassID: "AUTHENTICATION_TYPE_BASIC", Name: "AUTHENTICATION_OUTCOME_SUCCESS", Severity: "0",
				Extensions: []CEFExtension{{"rt", "1"}, {"user_agent", ""}, {"sig", "x"}}}},
		{"syslog header", `<134>Jun 23 14:28:47 host CEF:0|V|P|1.0|C|N|High|a=b`,
			CEFLine{Prefix: "<134>Jun 23 14:28:47 host", Version: "0", DeviceVendor: "V", DeviceProduct: "P", DeviceVersion: "1.0",
				DeviceEventClassID: "C", Name: "N", Severity: "High", Extensions: []CEFExtension{{"a", "b"}}}},
		{"no prefix, no extensions, CRLF", "CEF:1|V|P|1.0|C|N|3|\r\n",
			CEFLine{Version: "1", DeviceVendor: "V", DeviceProduct: "P", DeviceVersion: "1.0", DeviceEventClassID: "C", Name: "N", Severity: "3"}},
		{"header escapes", `CEF:0|Ven\|dor|P\\|1.0|a\nb\rc|N\x|5|`,
			CEFLine{Version: "0", DeviceVendor: "Ven|dor", DeviceProduct: `P\`, DeviceVersion: "1.0", DeviceEventClassID: "a\nb\rc",
				Name: `N\x`, Severity: "5"}},
		{"extension escapes and spaces", `CEF:0|V|P|1.0|C|N|1|msg=a b\=c d\\ e\n\r f=g h=  `,
			CEFLine{Version: "0", DeviceVendor: "V", DeviceProduct: "P", DeviceVersion: "1.0", DeviceEventClassID: "C", Name: "N", Severity: "1",
				Extensions: []CEFExtension{{"msg", "a b=c d\\ e\n\r"}, {"f", "g"}, {"h", ""}}}},
		{"value ends at the last space before key=", `CEF:0|V|P|1.0|C|N|1|a=x  b=y`,
			CEFLine{Version: "0", DeviceVendor: "V", DeviceProduct: "P", DeviceVersion: "1.0", DeviceEventClassID: "C", Name: "N", Severity: "1",
				Extensions: []CEFExtension{{"a", "x "}, {"b", "y"}}}},
		{"escaped backslash before a key", `CEF:0|V|P|1.0|C|N|1|a=x\\ b=y`,
			CEFLine{Version: "0", DeviceVendor: "V", DeviceProduct: "P", DeviceVersion: "1.0", DeviceEventClassID: "C", Name: "N", Severity: "1",
				Extensions: []CEFExtension{{"a", `x\`}, {"b", "y"}}}},
		{"pipe and unescaped = inside a value", `CEF:0|V|P|1.0|C|N|1|request=/x?a=b|c d=e`,
			CEFLine{Version: "0", DeviceVendor: "V", DeviceProduct: "P", DeviceVersion: "1.0", DeviceEventClassID: "C", Name: "N", Severity: "1",
				Extensions: []CEFExtension{{"request", "/x?a=b|c"}, {"d", "e"}}}},
		{"trailing whitespace after the final value is dropped, before a key kept", "CEF:0|V|P|1.0|C|N|1|a=x   b=y z \t \r\r\n",
			CEFLine{Version: "0", DeviceVendor: "V", DeviceProduct: "P", DeviceVersion: "1.0", DeviceEventClassID: "C", Name: "N", Severity: "1",
				Extensions: []CEFExtension{{"a", "x  "}, {"b", "y z"}}}},
		{"CR before the newline is no data", "CEF:0|V|P|1.0|C|N|1|a=x\r\n",
			CEFLine{Version: "0", DeviceVendor: "V", DeviceProduct: "P", DeviceVersion: "1.0", DeviceEventClassID: "C", Name: "N", Severity: "1",
				Extensions: []CEFExtension{{"a", "x"}}}},
		{"ArcSight keys: dots, commas, underscores, brackets", `CEF:0|V|P|1.0|C|N|1|ad.Error_,Code=5 ad.field[0]=a b ad.x=.y [z]=w`,
			CEFLine{Version: "0", DeviceVendor: "V", DeviceProduct: "P", DeviceVersion: "1.0", DeviceEventClassID: "C", Name: "N", Severity: "1",
				Extensions: []CEFExtension{{"ad.Error_,Code", "5"}, {"ad.field[0]", "a b"}, {"ad.x", ".y [z]=w"}}}},
		{"prefix containing CEF:", `xCEF:1| CEF:x CEF:0|V|P|1.0|C|N|1|`,
			CEFLine{Prefix: "xCEF:1| CEF:x", Version: "0", DeviceVendor: "V", DeviceProduct: "P", DeviceVersion: "1.0", DeviceEventClassID: "C", Name: "N", Severity: "1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseCEF([]byte(tc.line))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseCEFErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, line, reason string }{
		{"not CEF", `{"name":"x"}`, `no "CEF:<version>|" header`},
		{"short header", `CEF:0|V|P|1.0|C|N|1`, "header has 6 of the 7 fields"},
		{"escaped last pipe", `CEF:0|V|P|1.0|C|N|1\|a=b`, "header has 6 of the 7 fields"},
		{"bad version", `CEF:x|V|P|1.0|C|N|1|`, "no \"CEF:<version>|\" header"},
		{"no key", `CEF:0|V|P|1.0|C|N|1|=b`, "does not start with key="},
		{"junk before first key", `CEF:0|V|P|1.0|C|N|1|hello a=b`, "does not start with key="},
		{"duplicate key", `CEF:0|V|P|1.0|C|N|1|a=b c=d a=e`, `"a" occurs twice`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseCEF([]byte(tc.line))
			var ce *CEFError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("got %v, want a CEFError saying %q", err, tc.reason)
			}
		})
	}
}

// hostileValues are what a user controls (user agent, path, query, names)
// crafted to break out of their field.
var hostileValues = []string{
	"", " ", "  ", "a|b", "a=b", `a\b`, `\`, `\\`, `a\`, `\=`, `\n`, "a b", "a\rb", "a\nb", "\r\n",
	" sig=" + strings.Repeat("A", SigLen), "x sig=AAAA", "key=value", "x trace_id=forged", " user_agent=evil",
	"trailing ", " leading", "=", "|", "||", `\|`, "CEF:0|Evil|X|1.0|a|b|10|rt=1", "x\" \"y", `{"sig":"x"}`,
	`","sig":"` + strings.Repeat("B", SigLen) + `"}`, "ünï\u2028cødé", "\x00\x01\t", "\xff\xfe",
	// Line breaks and controls (linebreak.go), and text that looks like
	// the escapes sigtrail writes for them.
	"a\u2028x trace_id=forged", "\u2029", "\u0085", "\x85", "\xc2", "\x7f", "\u0080\u009f", "\v\f\x1c\x1d\x1e",
	"\x00", `\u2028`, `\\u2028`, `\u0041`, `\u202`, `\U2028`, `\u2028`[:5], "\\\u2028", `\uD800`, "\u2028\u2028\n",
}

func hostileEntries(v string) []Entry {
	base := sampleEntries()
	var out []Entry
	for _, s := range base {
		e := s.entry
		e.UserAgent, e.PrincipalName = v, v
		switch e.Kind {
		case KindAuthentication:
			e.Request, e.ClassID = v, "C"+v
		case KindAuthorization:
			e.Name = AuthzNamePrefix + "r" + v
			e.Action, e.ActorID, e.Product = v, v, v
		case KindAccess:
			e.Request, e.Query, e.Act, e.TraceID = v, v, v, v
		}
		out = append(out, e)
	}
	return out
}

// TestHostileValuesCEF: whatever a user puts in a value, the CEF line
// parses back to exactly the fields written, never one more or altered.
func TestHostileValuesCEF(t *testing.T) {
	t.Parallel()
	signer := newTestSigner(t)
	for _, v := range hostileValues {
		t.Run(strings.ToValidUTF8(v, "?"), func(t *testing.T) {
			t.Parallel()
			for _, e := range hostileEntries(v) {
				line := Renderer{}.AppendSigned(nil, FormatCEF, &e, signer)
				if strings.ContainsAny(string(line), "\r\n") {
					t.Fatalf("raw line break in %q", line)
				}
				l, err := ParseCEF(line)
				if err != nil {
					t.Fatalf("%q: %v", line, err)
				}
				if n := len(lineBreakSplit(string(line))); n != 1 || !utf8.Valid(line) {
					t.Fatalf("%q reads as %d lines (valid UTF-8: %v)", line, n, utf8.Valid(line))
				}
				e := asWritten(e)
				want := wantExtensions(e)
				got := l.Extensions[:len(l.Extensions)-1]
				if !reflect.DeepEqual(got, want) || l.Extensions[len(l.Extensions)-1].Key != "sig" {
					t.Fatalf("%q\n got %q\nwant %q", line, l.Extensions, want)
				}
				if l.DeviceProduct != e.Product || l.DeviceEventClassID != e.ClassID || l.Name != e.Name {
					t.Fatalf("header altered: %+v", l)
				}
				back, err := l.Entry()
				if err != nil {
					t.Fatal(err)
				}
				sameEntry(t, back, e)
				msg, sig, err := SplitSignature(line)
				if err != nil || !verify(signer, msg, sig) {
					t.Fatalf("signature: %v", err)
				}
			}
		})
	}
}

// TestHostileValuesJSON: the JSON and CPS lines stay valid JSON with the
// typing rule and give back the same values.
func TestHostileValuesJSON(t *testing.T) {
	t.Parallel()
	signer := newTestSigner(t)
	for _, v := range hostileValues {
		t.Run(strings.ToValidUTF8(v, "?"), func(t *testing.T) {
			t.Parallel()
			for _, e := range hostileEntries(v) {
				for _, f := range []Format{FormatJSON, FormatCPS} {
					line := Renderer{}.AppendSigned(nil, f, &e, signer)
					obj := line
					if f == FormatCPS {
						var w struct {
							Event json.RawMessage `json:"event"`
						}
						if err := json.Unmarshal(line, &w); err != nil {
							t.Fatalf("%s: %v", line, err)
						}
						obj = w.Event
					}
					checkJSONTypes(t, obj)
					var m map[string]any
					if err := json.Unmarshal(obj, &m); err != nil {
						t.Fatal(err)
					}
					// Each invalid byte becomes U+FFFD, as in encoding/json.
					if got, want := m["user_agent"], string([]rune(v)); got != want {
						t.Fatalf("user_agent: got %q, want %q", got, want)
					}
					back, err := ParseJSON(obj)
					if err != nil {
						t.Fatalf("%s: %v", obj, err)
					}
					if utf8.ValidString(v) {
						sameEntry(t, back, e)
					}
					msg, sig, err := SplitSignature(line)
					if err != nil || !verify(signer, msg, sig) {
						t.Fatalf("signature: %v", err)
					}
				}
			}
		})
	}
}

func verify(s testSigner, msg, sig []byte) bool {
	return reflect.DeepEqual(s.Sign(msg), sig)
}

func TestCEFLineEntryErrors(t *testing.T) {
	t.Parallel()
	good := "CEF:0|KongInc|Konnect|1.0|KongGateway|Ingress|1|rt=1 src=a request=/ act=GET status=200 org_id=o principal_id=p user_agent= trace_id=t query="
	tests := []struct{ name, line, field string }{
		{"unknown name", strings.Replace(good, "|Ingress|", "|Other|", 1), "name"},
		{"wrong version", strings.Replace(good, "CEF:0", "CEF:1", 1), "version"},
		{"wrong severity", strings.Replace(good, "|1|rt", "|6|rt", 1), "severity"},
		{"missing status", strings.Replace(good, " status=200", "", 1), "status"},
		{"foreign field", good + " granted=true", "granted"},
		{"non-canonical rt", strings.Replace(good, "rt=1", "rt=01", 1), "rt"},
		{"bad status", strings.Replace(good, "status=200", "status=abc", 1), "status"},
		{"sig not last", strings.Replace(good, "rt=1", "sig=x rt=1", 1), "sig"},
		{"success contradicts", "CEF:0|KongInc|Dev-Portal|1.0|AUTHENTICATION_TYPE_BASIC|AUTHENTICATION_OUTCOME_LOCKED|6|rt=1 src= request= success=true org_id= principal_id= trace_id= user_agent=", "success"},
	}
	if l, err := ParseCEF([]byte(good)); err != nil {
		t.Fatal(err)
	} else if _, err := l.Entry(); err != nil {
		t.Fatalf("the good line fails: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l, err := ParseCEF([]byte(tc.line))
			if err != nil {
				t.Fatal(err)
			}
			_, err = l.Entry()
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("got %v, want an error on %s", err, tc.field)
			}
		})
	}
}

func TestAppendDecodedJSON(t *testing.T) {
	t.Parallel()
	l, err := ParseCEF([]byte(`pre CEF:0|V|P|1.0|C|N|1|b=2 a=x\=y`))
	if err != nil {
		t.Fatal(err)
	}
	got := string(l.AppendDecodedJSON(nil))
	want := `{"prefix":"pre","header":{"version":"0","device_vendor":"V","device_product":"P","device_version":"1.0","device_event_class_id":"C","name":"N","severity":"1"},"extensions":{"b":"2","a":"x=y"}}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestAppendTypedJSON(t *testing.T) {
	t.Parallel()
	l, err := ParseCEF([]byte(`CEF:0|V|P|1.0|C|N|6|rt=1750688927556 status=503 success=true granted=false src=10 severity=x trace_id=7 ok=true`))
	if err != nil {
		t.Fatal(err)
	}
	got := string(l.AppendTypedJSON(nil))
	want := `{"prefix":"","header":{"version":"0","device_vendor":"V","device_product":"P","device_version":"1.0","device_event_class_id":"C","name":"N","severity":6},` +
		`"extensions":{"rt":1750688927556,"status":503,"success":true,"granted":false,"src":"10","severity":"x","trace_id":"7","ok":"true"}}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if !json.Valid([]byte(got)) {
		t.Fatal("invalid JSON")
	}
}
