package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestServeRefusesBadInputWithOneLine(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string // in the one-line error
	}{
		{"unknown flag", nil, []string{"serve", "--bogus"}, "flag provided but not defined"},
		{"stray argument", nil, []string{"serve", "extra"}, `unexpected argument "extra"`},
		{"bad duration", nil, []string{"serve", "--retention", "soon"}, "invalid value"},
		{"retention too short", nil, []string{"serve", "--retention", "5m"}, "--retention must be at least 1h"},
		{"bad proxies", nil, []string{"serve", "--trusted-proxies", "not-an-ip"}, "--trusted-proxies"},
		{"bad log level", nil, []string{"serve", "--log-level", "loud"}, "--log-level"},
		{"smtp half configured", nil, []string{"serve", "--smtp-url", "smtp://127.0.0.1:2525"}, "--smtp-url and --smtp-from go together"},
		{"postgres unreachable", nil, []string{"serve", "--db", "postgres://sigtrail:secret@127.0.0.1:1/x?connect_timeout=5"}, "open PostgreSQL postgres://sigtrail:xxxxx@127.0.0.1:1/x"},
		{"postgres unreachable through the environment", map[string]string{"SIGTRAIL_DB": "postgres://127.0.0.1:1/x"}, []string{"serve"}, "open PostgreSQL"},
		{"unknown database scheme", nil, []string{"serve", "--db", "mysql://127.0.0.1/x"}, `unknown database scheme "mysql"`},
		{"database call timeout too short", nil, []string{"serve", "--db-call-timeout", "100ms"}, "--db-call-timeout must be between 1s and 10m"},
		{"database call timeout through the environment", map[string]string{"SIGTRAIL_DB_CALL_TIMEOUT": "1h"}, []string{"serve"}, "--db-call-timeout"},
		{"bad env value", map[string]string{"SIGTRAIL_BATCH_LINES": "many"}, []string{"serve"}, "SIGTRAIL_BATCH_LINES"},
		{"host with space", nil, []string{"serve", "--cef-host", "a b"}, "--cef-host"},
		{"ingest stall limit too short", nil, []string{"serve", "--ingest-body-stall-timeout", "10ms"}, "--ingest-body-stall-timeout must be between 1s"},
		{"ingest stall limit through the environment", map[string]string{"SIGTRAIL_INGEST_BODY_STALL_TIMEOUT": "5m"}, []string{"serve"}, "--ingest-body-stall-timeout"},
		{"negative ingest rate through the environment", map[string]string{"SIGTRAIL_INGEST_MIN_BODY_RATE": "-5"}, []string{"serve"}, "--ingest-min-body-rate"},
		{"no unauthenticated audit burst", nil, []string{"serve", "--unauth-audit-burst", "0"}, "--unauth-audit-burst must be at least 1"},
		{"unauthenticated audit interval through the environment", map[string]string{"SIGTRAIL_UNAUTH_AUDIT_EVERY": "2h"}, []string{"serve"}, "--unauth-audit-every must be between"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			args := append(c.args, "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--portal-addr", "127.0.0.1:0")
			code, _, stderr := runCLI(t, c.env, "", args...)
			if code == 0 {
				t.Fatalf("exit 0, want non-zero")
			}
			if strings.Count(strings.TrimRight(stderr, "\n"), "\n") != 0 || !strings.Contains(stderr, c.want) {
				t.Fatalf("stderr %q, want one line containing %q", stderr, c.want)
			}
		})
	}
}

var serveLine = regexp.MustCompile(`management API on (http://\S+),`)

func TestServeBootstrapsAnswersAndStopsCleanly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	out, errs := &lockedBuffer{}, &lockedBuffer{}
	env := map[string]string{"SIGTRAIL_BOOTSTRAP_TOKEN": "stpat_serve-test-secret-0123456789abcdef"}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "--data-dir", dir, "--addr", "127.0.0.1:0", "--portal-addr", "127.0.0.1:0"},
			func(k string) string { return env[k] }, strings.NewReader(""), out, errs)
	}()
	var base string
	for deadline := time.Now().Add(30 * time.Second); base == ""; time.Sleep(20 * time.Millisecond) {
		if m := serveLine.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		} else if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start: %s", errs.String())
		}
	}

	get := func(path, token string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, _ := get("/healthz", ""); code != 200 {
		t.Errorf("healthz %d", code)
	}
	code, body := get("/v2/audit-log-webhook/jwks.json", "")
	var jwks struct {
		Keys []map[string]string `json:"keys"`
	}
	if code != 200 || json.Unmarshal(body, &jwks) != nil || len(jwks.Keys) != 1 || jwks.Keys[0]["crv"] != "Ed25519" {
		t.Errorf("jwks %d %s", code, body)
	}
	if code, _ := get("/v3/audit-log-destinations", "stpat_serve-test-secret-0123456789abcdef"); code != 200 {
		t.Errorf("the bootstrap token was refused: %d", code)
	}
	if code, _ := get("/v3/audit-log-destinations", "stpat_wrong"); code != 401 {
		t.Errorf("a wrong token got %d, want 401", code)
	}
	if code, body := get("/metrics", ""); code != 200 || !strings.Contains(string(body), "go_goroutines") {
		t.Errorf("metrics %d", code)
	}
	if fi, err := os.Stat(filepath.Join(dir, "sigtrail.db")); err != nil || fi.Size() == 0 {
		t.Errorf("no database in the data dir: %v", err)
	}

	// A second server on the same data directory would deliver every line
	// a second time: it is refused at start, in one line.
	code2, _, stderr2 := runCLI(t, nil, "", "serve", "--data-dir", dir, "--addr", "127.0.0.1:0", "--portal-addr", "127.0.0.1:0")
	if code2 == 0 || strings.Count(strings.TrimRight(stderr2, "\n"), "\n") != 0 || !strings.Contains(stderr2, "another sigtrail process is using") {
		t.Errorf("a second serve on the same data dir: exit %d, stderr %q; want one line refusing it", code2, stderr2)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d after its context ended: %s", code, errs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop within 20s of its context ending")
	}
}
