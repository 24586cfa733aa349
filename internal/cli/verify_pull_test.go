package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigtrail/sigtrail/internal/audit"
)

// pullPages reads the org's log through the pull API, page by page as a
// curl loop would, and returns each answer's body as sent.
func pullPages(t *testing.T, base, token string, size int) [][]byte {
	t.Helper()
	var pages [][]byte
	next := fmt.Sprintf("/v3/audit-logs?page%%5Bsize%%5D=%d", size)
	for next != "" {
		req, err := http.NewRequest(http.MethodGet, base+next, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s %v", next, res.StatusCode, body, err)
		}
		var page struct {
			Meta struct {
				Page struct {
					Next *string `json:"next"`
				} `json:"page"`
			} `json:"meta"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		pages = append(pages, body)
		next = ""
		if page.Meta.Page.Next != nil {
			next = *page.Meta.Page.Next
		}
	}
	return pages
}

// pageItems returns the data items of one answer.
func pageItems(t *testing.T, page []byte) []json.RawMessage {
	t.Helper()
	var p struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(page, &p); err != nil {
		t.Fatal(err)
	}
	return p.Data
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// editItem decodes an item, changes it and encodes it again, keeping its
// signature.
func editItem(t *testing.T, item json.RawMessage, change func(m map[string]any)) json.RawMessage {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(item))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	change(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestVerifyPullAgainstAServer pulls a real server's log with net/http and
// verifies it with `verify --pull` against the server's JWKS: as pages
// concatenated by a paging loop, as one pretty-printed answer and as NDJSON
// of items. Tampered items and one signed by a key the JWKS lacks fail,
// each named by its place, trace_id and ts.
func TestVerifyPullAgainstAServer(t *testing.T) {
	t.Parallel()
	base, token := replayServer(t)
	// Each request appends authentication, authorization and access entries.
	for _, path := range []string{"/v3/audit-log-destinations", "/v3/audit-log-webhook/status", "/v3/audit-logs", "/v3/nope"} {
		apiCall(t, http.MethodGet, base+path, token, nil, nil)
	}
	jwks := base + "/v2/audit-log-webhook/jwks.json"

	pages := pullPages(t, base, token, 4)
	var items []json.RawMessage
	for _, p := range pages {
		items = append(items, pageItems(t, p)...)
	}
	if len(pages) < 3 || len(items) < 10 {
		t.Fatalf("%d pages, %d items: too few to test with", len(pages), len(items))
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, pages[0], "", "  "); err != nil {
		t.Fatal(err)
	}
	var ndjson bytes.Buffer
	for _, it := range items {
		ndjson.Write(it)
		ndjson.WriteByte('\n')
	}
	concatenated := writeFile(t, "pages.json", bytes.Join(pages, nil)) // as `curl -s` writes them: no separator
	code, out, errOut := runCLI(t, nil, "", "verify", "--pull", "--jwks", jwks, concatenated,
		writeFile(t, "pretty.json", pretty.Bytes()), writeFile(t, "items.ndjson", ndjson.Bytes()))
	want := fmt.Sprintf("%d verified, 0 failed\n", 2*len(items)+len(pageItems(t, pages[0])))
	if code != 0 || out != want || errOut != "" {
		t.Fatalf("exit %d, stdout %q (want %q), stderr %q", code, out, want, errOut)
	}
	// Line mode, unchanged, finds no signed line in an answer.
	code, out, _ = runCLI(t, nil, "", "verify", "--jwks", jwks, concatenated)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 1 || !strings.HasPrefix(lines[len(lines)-1], "0 verified, ") {
		t.Fatalf("line mode on pull answers: exit %d, %q", code, out)
	}

	other, _ := testKeyring(t)
	byOther := editItem(t, items[4], func(m map[string]any) {
		delete(m, "signature")
		b, _ := json.Marshal(m)
		msg, err := audit.CanonicalItem(b)
		if err != nil {
			t.Fatal(err)
		}
		m["signature"] = base64.RawURLEncoding.EncodeToString(other.Sign(msg))
	})
	label := func(it json.RawMessage) (trace, ts string) {
		var m map[string]any
		if err := json.Unmarshal(it, &m); err != nil {
			t.Fatal(err)
		}
		return m["trace_id"].(string), m["ts"].(string)
	}
	tampered := []json.RawMessage{
		items[0],
		editItem(t, items[1], func(m map[string]any) { m["client_ip"] = "198.51.100.1" }),
		editItem(t, items[2], func(m map[string]any) { m["severity"] = json.Number("3") }),
		editItem(t, items[3], func(m map[string]any) { delete(m, "ts") }),
		byOther,
		editItem(t, items[5], func(m map[string]any) { delete(m, "signature") }),
	}
	var wantFail strings.Builder
	for i := range tampered[1:] {
		trace, ts := label(items[i+1])
		why, where := "signature matches no published key", fmt.Sprintf("trace_id %q, ts %q", trace, ts)
		if i == 2 {
			where = fmt.Sprintf("trace_id %q", trace)
		}
		if i == 4 {
			why = "item carries no signature"
		}
		fmt.Fprintf(&wantFail, "FILE:%d: %s (%s)\n", i+2, why, where)
	}
	wantFail.WriteString("1 verified, 5 failed\n")
	asPage, err := json.MarshalIndent(map[string]any{"data": tampered, "meta": map[string]any{}}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var asLines bytes.Buffer
	for _, it := range tampered {
		asLines.Write(it)
		asLines.WriteByte('\n')
	}
	for name, in := range map[string][]byte{"answer.json": asPage, "items.ndjson": asLines.Bytes()} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			file := writeFile(t, name, in)
			code, out, errOut := runCLI(t, nil, "", "verify", "--pull", "--jwks", jwks, file)
			want := strings.ReplaceAll(wantFail.String(), "FILE", file)
			if code != 1 || out != want || errOut != "" {
				t.Fatalf("exit %d, stdout:\n%s\nwant:\n%s\nstderr: %q", code, out, want, errOut)
			}
		})
	}
}

// signedItem is a pulled item signed by s, as the pull API signs it.
func signedItem(t testing.TB, s audit.Signer, traceID string) []byte {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"type": "gateway_access", "ts": "2026-07-21T12:00:00.001Z",
		"trace_id": traceID, "status_code": 200, "user_agent": "curl/8 <x>"})
	msg, err := audit.CanonicalItem(b)
	if err != nil {
		t.Fatal(err)
	}
	sig := base64.RawURLEncoding.EncodeToString(s.Sign(msg))
	return append(b[:len(b)-1], `,"signature":"`+sig+`"}`...)
}

// Malformed input is one line on stderr and exit 1; the items before it,
// and the other files, are still verified and counted.
func TestVerifyPullMalformedInput(t *testing.T) {
	t.Parallel()
	k, _ := testKeyring(t)
	jwks := writeJWKS(t, k.JWKS())
	good := string(signedItem(t, k, "g"))
	tests := []struct {
		name, in, err string
		verified      int
	}{
		{"not JSON", "nope", "document 1 is not JSON: invalid character 'o' in literal null (expecting 'u') at byte 2", 0},
		{"garbage after items", good + "\n" + good + "\n}", "document 3 is not JSON", 2},
		{"cut short", `{"data":[` + good, "document 1 is cut short", 0},
		{"data not an array", `{"data":{"a":1},"meta":{}}`, "document 1: data is not an array of items", 0},
		{"data null", good + `{"data":null}`, "document 2: data is not an array of items", 1},
		{"a number", good + " 5", "document 2 is neither a pull API answer nor an item", 1},
		{"a string", `"x"`, "document 1 is neither a pull API answer nor an item", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bad := writeFile(t, "bad.json", []byte(tc.in))
			more := writeFile(t, "more.json", []byte(`{"data":[`+good+`]}`))
			code, out, errOut := runCLI(t, nil, "", "verify", "--pull", "--jwks", jwks, bad, more)
			wantErr := "sigtrail: " + bad + ": " + tc.err
			wantOut := fmt.Sprintf("%d verified, 0 failed\n", tc.verified+1)
			if code != 1 || !strings.HasPrefix(errOut, wantErr) || strings.Count(errOut, "\n") != 1 || out != wantOut {
				t.Fatalf("exit %d, stdout %q (want %q), stderr %q (want %q)", code, out, wantOut, errOut, wantErr)
			}
		})
	}
}

// Malformed stdin is treated as a malformed file: one line, the summary,
// exit 1.
func TestVerifyPullMalformedStdin(t *testing.T) {
	t.Parallel()
	k, _ := testKeyring(t)
	code, out, errOut := runCLI(t, nil, string(signedItem(t, k, "g"))+"\n{", "verify", "--pull", "--jwks", writeJWKS(t, k.JWKS()))
	if code != 1 || out != "1 verified, 0 failed\n" || errOut != "sigtrail: stdin: document 2 is cut short\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// Items that are not objects, or have no single meaning, fail by name
// without ending the input.
func TestVerifyPullOddItems(t *testing.T) {
	t.Parallel()
	k, _ := testKeyring(t)
	good := string(signedItem(t, k, "g"))
	in := "[" + good + `, 7, {"trace_id":"a","trace_id":"b"}]` + "\n" + good
	code, out, _ := runCLI(t, nil, in, "verify", "--pull", "--jwks", writeJWKS(t, k.JWKS()))
	want := "stdin:2: item is not a JSON object\n" +
		"stdin:3: item has the member \"trace_id\" twice (trace_id \"b\")\n" +
		"2 verified, 2 failed\n"
	if code != 1 || out != want {
		t.Fatalf("exit %d, stdout:\n%s\nwant:\n%s", code, out, want)
	}
}

// A big answer is verified in parallel batches, the failures still in order.
func TestVerifyPullKeepsOrderAcrossBatches(t *testing.T) {
	t.Parallel()
	k, _ := testKeyring(t)
	var in, want bytes.Buffer
	const n = 2500
	bad := 0
	in.WriteString(`{"data":[`)
	for i := 1; i <= n; i++ {
		if i > 1 {
			in.WriteByte(',')
		}
		it := signedItem(t, k, fmt.Sprint(i))
		if i%331 == 0 {
			it = bytes.Replace(it, []byte(`"status_code":200`), []byte(`"status_code":500`), 1)
			fmt.Fprintf(&want, "stdin:%d: signature matches no published key (trace_id %q, ts \"2026-07-21T12:00:00.001Z\")\n", i, fmt.Sprint(i))
			bad++
		}
		in.Write(it)
	}
	in.WriteString(`],"meta":{"page":{"size":2500}}}`)
	fmt.Fprintf(&want, "%d verified, %d failed\n", n-bad, bad)
	code, out, _ := runCLI(t, nil, in.String(), "verify", "--pull", "--jwks", writeJWKS(t, k.JWKS()), "--workers", "3")
	if code != 1 || out != want.String() {
		t.Fatalf("exit %d, output:\n%s\nwant:\n%s", code, out, want.String())
	}
}

func TestVerifyPullUsage(t *testing.T) {
	t.Parallel()
	k, _ := testKeyring(t)
	jwks := writeJWKS(t, k.JWKS())
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		err  string
	}{
		{"no --jwks", nil, []string{"verify", "--pull"}, 2, "--jwks is required"},
		{"--pull with a value", nil, []string{"verify", "--pull=maybe", "--jwks", jwks}, 2, "invalid boolean value"},
		{"unknown flag", nil, []string{"verify", "--pull", "--pages", "--jwks", jwks}, 2, "flag provided but not defined"},
		{"no workers", nil, []string{"verify", "--pull", "--jwks", jwks, "--workers", "0"}, 2, "--workers must be at least 1"},
		{"SIGTRAIL_PULL not a boolean", map[string]string{"SIGTRAIL_PULL": "yes"}, []string{"verify", "--jwks", jwks}, 2, "SIGTRAIL_PULL"},
		{"missing file", nil, []string{"verify", "--pull", "--jwks", jwks, "/nonexistent/page.json"}, 1, "no such file"},
		{"help", nil, []string{"verify", "-h"}, 0, "--pull"},
		{"empty input", nil, []string{"verify", "--pull", "--jwks", jwks}, 1, "no lines to verify"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, _, errOut := runCLI(t, tc.env, "", tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.err) || code == 1 && strings.Count(errOut, "\n") != 1 {
				t.Fatalf("exit %d (want %d), stderr %q (want it to contain %q)", code, tc.code, errOut, tc.err)
			}
		})
	}
}

// FuzzEachPulledItem: the pull reader takes files a user hands it. It never
// panics; every item it yields is one JSON value; a single well-formed
// answer yields exactly its data items; and when it accepts the input,
// the input is a sequence of JSON documents.
func FuzzEachPulledItem(f *testing.F) {
	f.Add([]byte(`{"data":[{"a":1},{"b":2}],"meta":{"page":{"size":2}}}`))
	f.Add([]byte("{\n  \"data\": [\n    {\"a\": 1}\n  ]\n}{\"data\":[]}"))
	f.Add([]byte("{\"a\":1}\n{\"b\":2}\n"))
	f.Add([]byte(`[{"a":1},2,"x"]`))
	f.Add([]byte(`{"data":null}`))
	f.Add([]byte(`{"data":[{"a":1}`))
	f.Add([]byte(`5 "x" true`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var got []json.RawMessage
		err := eachPulledItem(t.Context(), bytes.NewReader(in), func(n int, item json.RawMessage) error {
			if n != len(got)+1 {
				t.Fatalf("item %d after %d items", n, len(got))
			}
			if !json.Valid(item) {
				t.Fatalf("item %d is not JSON: %q", n, item)
			}
			got = append(got, item)
			return nil
		})
		if err != nil {
			if _, ok := err.(*readError); !ok {
				t.Fatalf("error %v is not a readError", err)
			}
		} else {
			dec := json.NewDecoder(bytes.NewReader(in))
			for {
				var v json.RawMessage
				if derr := dec.Decode(&v); derr == io.EOF {
					break
				} else if derr != nil {
					t.Fatalf("accepted %q, which is not a sequence of JSON documents: %v", in, derr)
				}
			}
		}
		var one map[string]json.RawMessage
		var data []json.RawMessage
		if json.Unmarshal(in, &one) == nil && one["data"] != nil && json.Unmarshal(one["data"], &data) == nil && data != nil {
			if err != nil || len(got) != len(data) {
				t.Fatalf("answer with %d items gave %d, %v", len(data), len(got), err)
			}
			for i := range data {
				if !bytes.Equal(got[i], data[i]) {
					t.Fatalf("item %d: %q, want %q", i+1, got[i], data[i])
				}
			}
		}
	})
}
