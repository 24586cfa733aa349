package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
)

// startSinkCommand runs `sigtrail sink` on 127.0.0.1 port 0 until the test
// ends and returns its base URL.
func startSinkCommand(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errs := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, append([]string{"sink", "--addr", "127.0.0.1:0"}, args...),
			func(string) string { return "" }, strings.NewReader(""), out, errs)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("sink exited %d: %s", code, errs.String())
		}
	})
	re := regexp.MustCompile(`sink listening on (http://127\.0\.0\.1:\d+)`)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
		select {
		case code := <-done:
			done <- code
			t.Fatalf("sink exited %d: %s", code, errs.String())
		default:
		}
	}
	t.Fatalf("sink did not start: %s", errs.String())
	return ""
}

func sinkStats(t *testing.T, base string) map[string]any {
	t.Helper()
	resp, err := http.Get(base + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// The sink verifies lines against the keyring's JWKS and keeps them in
// --out.
func TestSinkCommandVerifiesAndKeeps(t *testing.T) {
	t.Parallel()
	keys, dir := testKeyring(t)
	jwks := filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(jwks, keys.JWKS(), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "lines.log")
	base := startSinkCommand(t, "--jwks", jwks, "--out", out)

	e := audit.Entry{Kind: audit.KindAuthentication, Time: time.Now(), Product: audit.ProductKonnect,
		ClassID: audit.AuthTypeBasic, Name: string(audit.OutcomeSuccess), OrgID: "o", TraceID: "1"}
	good := audit.Renderer{}.AppendSigned(nil, audit.FormatCEF, &e, keys)
	bad := []byte(strings.Replace(string(good), "trace_id=1", "trace_id=2", 1))
	body := string(good) + "\n" + string(bad)
	resp, err := http.Post(base+"/hook", "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	st := sinkStats(t, base)
	if st["lines"] != 2.0 || st["verified"] != 1.0 || st["failed"] != 1.0 {
		t.Fatalf("stats %v", st)
	}
	kept, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(kept) != body+"\n" {
		t.Fatalf("--out holds %q", kept)
	}
}

func TestSinkCommandFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want int // 0: connection dropped
	}{
		{[]string{"--fail-status", "429"}, 429},
		{[]string{"--fail-rate", "1"}, 500},
		{[]string{"--fail-status", "503", "--fail-rate", "0"}, 200},
		{[]string{"--reset"}, 0},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			base := startSinkCommand(t, tc.args...)
			resp, err := http.Post(base, "text/plain", strings.NewReader("x"))
			if tc.want == 0 {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("answered %d, want a dropped connection", resp.StatusCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

func TestSinkCommandUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"sink", "--fail-rate", "2"}, {"sink", "--bogus"}, {"sink", "extra"}, {"sink", "--jwks", "/nonexistent/jwks.json"}} {
		if code, _, _ := runCLI(t, nil, "", args...); code == 0 {
			t.Errorf("%v: exit 0", args)
		}
	}
	if code, _, stderr := runCLI(t, nil, "", "sink", "-h"); code != 0 || !strings.Contains(stderr, "-fail-status") {
		t.Errorf("sink -h: exit %d, %q", code, stderr)
	}
}
