package audit

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files and fuzz seed corpora")

var formats = []Format{FormatCEF, FormatJSON, FormatCPS}

// TestGolden renders every sample entry in every format, signed with a
// fixed key, and compares with testdata/golden. Run with -update after an
// intended change and review the diff.
func TestGolden(t *testing.T) {
	signer := newTestSigner(t)
	r := Renderer{}
	for _, tc := range sampleEntries() {
		for _, f := range formats {
			path := filepath.Join("testdata", "golden", tc.name+"."+string(f))
			got := append(r.AppendSigned(nil, f, &tc.entry, signer), '\n')
			if *update {
				writeFile(t, path, got)
				if f == FormatCEF {
					writeSeed(t, "FuzzParseCEF", tc.name, got)
					writeSeed(t, "FuzzSplitSignature", tc.name+"-cef", got)
				} else {
					writeSeed(t, "FuzzSplitSignature", tc.name+"-"+string(f), got)
				}
				if f == FormatJSON {
					writeSeed(t, "FuzzParseJSON", tc.name, got)
				}
				writeSeed(t, "FuzzDecodeRecord", tc.name, AppendRecord(nil, &tc.entry))
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s:\n got %s\nwant %s", path, got, want)
			}
		}
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeSeed writes one entry of a fuzz seed corpus in Go's corpus format.
func writeSeed(t *testing.T, fuzzer, name string, b []byte) {
	t.Helper()
	writeFile(t, filepath.Join("testdata", "fuzz", fuzzer, name), []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)))
}

// TestGoldenLinesReadBack checks each golden file from the reader's side:
// the signature verifies with the public key, the CEF line parses back to
// the entry, the JSON and CPS lines hold the entry with the typing rule.
func TestGoldenLinesReadBack(t *testing.T) {
	t.Parallel()
	pub := newTestSigner(t).public()
	for _, tc := range sampleEntries() {
		for _, f := range formats {
			t.Run(tc.name+"."+string(f), func(t *testing.T) {
				t.Parallel()
				line, err := os.ReadFile(filepath.Join("testdata", "golden", tc.name+"."+string(f)))
				if err != nil {
					t.Fatal(err)
				}
				line = bytes.TrimSuffix(line, []byte("\n"))
				msg, sig, err := SplitSignature(line)
				if err != nil {
					t.Fatal(err)
				}
				if !ed25519.Verify(pub, msg, sig) {
					t.Fatal("signature does not verify")
				}
				switch f {
				case FormatCEF:
					l, err := ParseCEF(line)
					if err != nil {
						t.Fatal(err)
					}
					e, err := l.Entry()
					if err != nil {
						t.Fatal(err)
					}
					sameEntry(t, e, tc.entry)
				case FormatJSON, FormatCPS:
					obj := line
					if f == FormatCPS {
						var w struct{ Event json.RawMessage }
						if err := json.Unmarshal(line, &w); err != nil {
							t.Fatal(err)
						}
						obj = w.Event
					}
					checkJSONTypes(t, obj)
					e, err := ParseJSON(obj)
					if err != nil {
						t.Fatal(err)
					}
					sameEntry(t, e, tc.entry)
				}
			})
		}
	}
}

// checkJSONTypes holds a JSON line to the typing rule: rt, status,
// severity and cef_version numbers; success and granted booleans; every
// other value a string; keys sorted with sig last.
func checkJSONTypes(t *testing.T, line []byte) {
	t.Helper()
	if !json.Valid(line) {
		t.Fatalf("not valid JSON: %s", line)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var prev string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		k := tok.(string)
		if prev == "sig" {
			t.Fatalf("key %q after sig", k)
		}
		if k != "sig" && k <= prev {
			t.Fatalf("key %q not sorted after %q", k, prev)
		}
		prev = k
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		var ok bool
		switch k {
		case "rt", "status", "severity", "cef_version":
			_, ok = v.(json.Number)
		case "success", "granted":
			_, ok = v.(bool)
		default:
			_, ok = v.(string)
		}
		if !ok {
			t.Fatalf("%s has the wrong JSON type: %T", k, v)
		}
	}
}

// TestDevPortalLoginHasKongShape pins the Dev Portal login line to the
// shape of Kong's published example, field for field.
func TestDevPortalLoginHasKongShape(t *testing.T) {
	t.Parallel()
	line, err := os.ReadFile(filepath.Join("testdata", "golden", "authn-devportal-success.cef"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^2025-06-23T14:28:47Z konghq\.com CEF:0\|KongInc\|Dev-Portal\|1\.0\|AUTHENTICATION_TYPE_BASIC\|AUTHENTICATION_OUTCOME_SUCCESS\|0\|` +
		`rt=1750688927556 src=172\.71\.232\.22 request=/api/v2/developer/authenticate success=true ` +
		`org_id=998db3e4-5cb7-4dd5-b51c-9878096a6999 portal_id=3e551b39-227d-4297-b911-e68fd5d77c17 ` +
		`principal_id=a3d2699a-0ed3-4417-bb10-d8e74a1513a4 trace_id=3360194145499877252 user_agent= sig=[A-Za-z0-9_-]{86}\n$`)
	if !re.Match(line) {
		t.Fatalf("line does not have Kong's shape:\n%s", line)
	}
}
