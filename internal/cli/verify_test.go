package cli

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
)

func writeJWKS(t *testing.T, jwks []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(p, jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVerifyNamesFailingLines(t *testing.T) {
	t.Parallel()
	k, _ := testKeyring(t)
	other, _ := testKeyring(t)
	jwks := writeJWKS(t, k.JWKS())
	tampered := signedLine(k, audit.FormatJSON, 2)
	tampered[20] ^= 1
	lines := [][]byte{
		signedLine(k, audit.FormatCEF, 1),
		signedLine(k, audit.FormatJSON, 2),
		signedLine(k, audit.FormatCPS, 3),
		tampered,
		[]byte("CEF:0|V|P|1.0|C|N|1|a=b"),
		{},
		signedLine(other, audit.FormatCEF, 4),
		append(signedLine(k, audit.FormatCEF, 5), '\r'),
	}
	file := filepath.Join(t.TempDir(), "lines.log")
	if err := os.WriteFile(file, append(bytes.Join(lines, []byte("\n")), '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, nil, "", "verify", "--jwks", jwks, file)
	want := file + ":4: signature matches no published key\n" +
		file + ":5: line carries no signature\n" +
		file + ":7: signature matches no published key\n" +
		"4 verified, 3 failed\n"
	if code != 1 || out != want {
		t.Fatalf("exit %d, stdout:\n%s\nwant:\n%s\nstderr: %s", code, out, want, errOut)
	}
}

func TestVerifyAllGoodFromStdin(t *testing.T) {
	t.Parallel()
	k, _ := testKeyring(t)
	var in bytes.Buffer
	for i := range 10 {
		in.Write(signedLine(k, []audit.Format{audit.FormatCEF, audit.FormatJSON, audit.FormatCPS}[i%3], i))
		in.WriteByte('\n')
	}
	code, out, errOut := runCLI(t, nil, in.String(), "verify", "--jwks", writeJWKS(t, k.JWKS()))
	if code != 0 || out != "10 verified, 0 failed\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestVerifyKeepsOrderAcrossWorkers: many chunks on several workers, the
// failures still come out in line order.
func TestVerifyKeepsOrderAcrossWorkers(t *testing.T) {
	t.Parallel()
	k, _ := testKeyring(t)
	var in, want bytes.Buffer
	const n = 3000
	bad := 0
	for i := 1; i <= n; i++ {
		line := signedLine(k, audit.FormatCEF, i)
		if i%97 == 0 {
			line[30] ^= 1
			fmt.Fprintf(&want, "stdin:%d: signature matches no published key\n", i)
			bad++
		}
		in.Write(line)
		in.WriteByte('\n')
	}
	fmt.Fprintf(&want, "%d verified, %d failed\n", n-bad, bad)
	code, out, _ := runCLI(t, nil, in.String(), "verify", "--jwks", writeJWKS(t, k.JWKS()), "--workers", "4")
	if code != 1 || out != want.String() {
		t.Fatalf("exit %d, output:\n%s\nwant:\n%s", code, out, want.String())
	}
}

func TestVerifyJWKSOverHTTP(t *testing.T) {
	t.Parallel()
	k, _ := testKeyring(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2/audit-log-webhook/jwks.json":
			w.Header().Set("Content-Type", "application/json")
			w.Write(k.JWKS())
		case "/slow":
			<-r.Context().Done() // answers only when the client gives up
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	line := string(signedLine(k, audit.FormatCEF, 1)) + "\n"
	tests := []struct {
		name, url string
		code      int
		out, err  string
	}{
		{"published keys", srv.URL + "/v2/audit-log-webhook/jwks.json", 0, "1 verified, 0 failed\n", ""},
		{"not found", srv.URL + "/nope", 1, "", "404"},
		{"timeout", srv.URL + "/slow", 1, "", "deadline exceeded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCLI(t, nil, line, "verify", "--jwks", tc.url, "--timeout", "200ms")
			if code != tc.code || out != tc.out || !strings.Contains(errOut, tc.err) || strings.Count(errOut, "\n") > 1 {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
		})
	}
}

func TestVerifyUsage(t *testing.T) {
	t.Parallel()
	k, _ := testKeyring(t)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
	}{
		{"no --jwks", nil, []string{"verify"}, 2},
		{"bad JWKS file", nil, []string{"verify", "--jwks", "/nonexistent/jwks.json"}, 1},
		{"JWKS without keys", nil, []string{"verify", "--jwks", writeJWKS(t, []byte(`{"keys":[]}`))}, 1},
		{"--jwks from the environment", map[string]string{"SIGTRAIL_JWKS": writeJWKS(t, k.JWKS())}, []string{"verify"}, 1}, // read, but stdin was empty
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if code, _, errOut := runCLI(t, tc.env, "", tc.args...); code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tc.code, errOut)
			}
		})
	}
}

// TestVerifyTruncatedClientText: lines whose client text was capped
// (audit.Entry.CapClientText, as the API writes unauthenticated requests)
// verify in every format, and decode shows the marker.
func TestVerifyTruncatedClientText(t *testing.T) {
	t.Parallel()
	k, _ := testKeyring(t)
	e := audit.Entry{Kind: audit.KindAccess, Time: time.UnixMilli(1750688927556).UTC(),
		Product: audit.ProductKonnect, ClassID: audit.AccessClassGateway, Name: audit.AccessName,
		Src: "192.0.2.7", OrgID: "org", TraceID: "t", Act: "GET", Status: 401,
		UserAgent: strings.Repeat("ua=\\|\x01\u2028é", 9000),
		Request:   "/v3/" + strings.Repeat("p\n=", 20000),
		Query:     strings.Repeat("q=%0A&", 10000)}
	e.CapClientText()
	var in bytes.Buffer
	for _, f := range []audit.Format{audit.FormatCEF, audit.FormatJSON, audit.FormatCPS} {
		in.Write(audit.Renderer{}.AppendSigned(nil, f, &e, k))
		in.WriteByte('\n')
	}
	code, out, errOut := runCLI(t, nil, in.String(), "verify", "--jwks", writeJWKS(t, k.JWKS()))
	if code != 0 || out != "3 verified, 0 failed\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if n := strings.Count(in.String(), audit.TruncatedMarker); n != 9 {
		t.Fatalf("%d truncation markers in 3 lines, want 9", n)
	}
}
