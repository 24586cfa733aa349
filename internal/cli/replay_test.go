package cli

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// replayServer boots `sigtrail serve` on 127.0.0.1 port 0 with a temp data
// dir and a bootstrap token, and returns its API base URL and the token.
func replayServer(t *testing.T) (string, string) {
	t.Helper()
	base, _ := serveAt(t, t.TempDir(), "127.0.0.1:0")
	return base, replayToken
}

const replayToken = "bootstrap-secret-for-replay-tests"

// serveAt boots `sigtrail serve` on addr with the data dir and returns its
// API base URL and a stop that ends it (also run at the end of the test).
func serveAt(t *testing.T, dataDir, addr string, extra ...string) (string, func()) {
	t.Helper()
	env := map[string]string{"SIGTRAIL_BOOTSTRAP_TOKEN": replayToken}
	ctx, cancel := context.WithCancel(context.Background())
	out, errs := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, append([]string{"serve", "--data-dir", dataDir, "--addr", addr, "--portal-addr", "127.0.0.1:0",
			"--insecure-destinations", "--log-level", "warn"}, extra...), func(k string) string { return env[k] }, strings.NewReader(""), out, errs)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("serve exited %d: %s", code, errs.String())
			}
		})
	}
	t.Cleanup(stop)
	re := regexp.MustCompile(`management API on (http://127\.0\.0\.1:\d+)`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1], stop
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, errs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s", errs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// replaySink is a SIEM on 127.0.0.1 counting the lines it receives.
func replaySink(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var lines atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, "not gzip", http.StatusBadRequest)
			return
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines.Add(1)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &lines
}

// apiCall sends one JSON request to the server and decodes the answer.
func apiCall(t *testing.T, method, url, token string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return res.StatusCode
}

func TestReplayCommandFollowsAJobToTheEnd(t *testing.T) {
	t.Parallel()
	base, token := replayServer(t)
	sink, lines := replaySink(t)
	var d struct {
		ID string `json:"id"`
	}
	if code := apiCall(t, http.MethodPost, base+"/v3/audit-log-destinations", token,
		map[string]any{"name": "sink", "endpoint": sink.URL, "authorization": "x", "log_format": "cef"}, &d); code != http.StatusCreated {
		t.Fatalf("create destination: %d", code)
	}
	// Disabled first: a replay then fails, with the reason, exit 1.
	if code := apiCall(t, http.MethodPatch, base+"/v3/audit-log-webhook", token,
		map[string]any{"audit_log_destination_id": d.ID, "enabled": false}, nil); code != http.StatusOK {
		t.Fatalf("configure webhook: %d", code)
	}
	env := map[string]string{"SIGTRAIL_SERVER": base, "SIGTRAIL_TOKEN": token}
	code, stdout, stderr := runCLI(t, env, "", "replay", "--since", "1h", "--poll", "20ms")
	if code != 1 || !strings.Contains(stderr, "failed: ") || !strings.Contains(stderr, "disabled") {
		t.Fatalf("replay to a disabled webhook: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}

	if code := apiCall(t, http.MethodPatch, base+"/v3/audit-log-webhook", token, map[string]any{"enabled": true}, nil); code != http.StatusOK {
		t.Fatalf("enable webhook: %d", code)
	}
	before := lines.Load()
	code, stdout, stderr = runCLI(t, env, "", "replay", "--since", "1h", "--poll", "20ms")
	if code != 0 {
		t.Fatalf("replay: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	m := regexp.MustCompile(`(?m)^completed: (\d+) of (\d+) entries sent$`).FindStringSubmatch(stdout)
	if m == nil || m[1] != m[2] || m[1] == "0" {
		t.Fatalf("no final progress line in:\n%s", stdout)
	}
	if !strings.HasPrefix(stdout, "replay of ") || !strings.Contains(stdout, " accepted\n") {
		t.Errorf("first line should show the window and accepted:\n%s", stdout)
	}
	// The sink got at least the replayed entries (live delivery adds more).
	var j struct {
		Progress struct{ Sent int64 } `json:"progress"`
	}
	apiCall(t, http.MethodGet, base+"/v3/audit-log-replay-job", token, nil, &j)
	deadline := time.Now().Add(10 * time.Second)
	for lines.Load()-before < j.Progress.Sent && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := lines.Load() - before; got < j.Progress.Sent {
		t.Errorf("sink received %d lines, want at least the %d replayed", got, j.Progress.Sent)
	}

	// Explicit --from/--to work too, and a bad window comes back as the
	// server's 400, named.
	now := time.Now().UTC()
	code, _, stderr = runCLI(t, env, "", "replay", "--from", now.Add(-30*time.Minute).Format(time.RFC3339), "--to", now.Format(time.RFC3339), "--poll", "20ms")
	if code != 0 {
		t.Fatalf("replay --from/--to: exit %d: %s", code, stderr)
	}
	code, _, stderr = runCLI(t, env, "", "replay", "--since", "200h")
	if code != 1 || !strings.Contains(stderr, "400") || !strings.Contains(stderr, "start_at") {
		t.Errorf("replay beyond retention: exit %d, stderr %s", code, stderr)
	}
	code, _, stderr = runCLI(t, map[string]string{"SIGTRAIL_SERVER": base, "SIGTRAIL_TOKEN": "wrong"}, "", "replay", "--since", "1h")
	if code != 1 || !strings.Contains(stderr, "401") {
		t.Errorf("replay with a bad token: exit %d, stderr %s", code, stderr)
	}
	code, _, stderr = runCLI(t, env, "", "replay", "--portal", "0193d4a8-9b8e-7c4f-8a4e-1e2f3a4b5c6d", "--since", "1h")
	if code != 1 || !strings.Contains(stderr, "404") {
		t.Errorf("replay of an unknown portal: exit %d, stderr %s", code, stderr)
	}
}

func TestReplayCommandUsage(t *testing.T) {
	t.Parallel()
	env := map[string]string{"SIGTRAIL_TOKEN": "t"}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no window", env, nil, "--since"},
		{"both forms", env, []string{"--since", "1h", "--from", "2026-01-01T00:00:00Z"}, "not both"},
		{"only from", env, []string{"--from", "2026-01-01T00:00:00Z"}, "both --from and --to"},
		{"bad from", env, []string{"--from", "yesterday", "--to", "2026-01-01T00:00:00Z"}, "--from"},
		{"reversed", env, []string{"--from", "2026-01-02T00:00:00Z", "--to", "2026-01-01T00:00:00Z"}, "before --to"},
		{"negative since", env, []string{"--since", "-1h"}, "positive"},
		{"no token", map[string]string{}, []string{"--since", "1h"}, "--token"},
		{"bad flag", env, []string{"--nope"}, "run 'sigtrail replay -h'"},
	} {
		code, _, stderr := runCLI(t, tc.env, "", append([]string{"replay"}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 mentioning %q", tc.name, code, stderr, tc.want)
		}
	}
}

// A server restart in the middle of a replay (a deploy, say) does not end
// `sigtrail replay`: it keeps following while the server is away, and the
// job, resumed by the new process, completes.
func TestReplayCommandFollowsAcrossAServerRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base, stop := serveAt(t, dir, "127.0.0.1:0")
	addr := strings.TrimPrefix(base, "http://")

	// The SIEM holds every request until released: the job stays running.
	release := make(chan struct{})
	var releaseOnce sync.Once
	unhold := func() { releaseOnce.Do(func() { close(release) }) }
	var held atomic.Int64
	siem := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		held.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	t.Cleanup(siem.Close)
	t.Cleanup(unhold)

	var d struct {
		ID string `json:"id"`
	}
	if code := apiCall(t, http.MethodPost, base+"/v3/audit-log-destinations", replayToken,
		map[string]any{"name": "siem", "endpoint": siem.URL, "authorization": "x", "log_format": "cef"}, &d); code != http.StatusCreated {
		t.Fatalf("create destination: %d", code)
	}
	if code := apiCall(t, http.MethodPatch, base+"/v3/audit-log-webhook", replayToken,
		map[string]any{"audit_log_destination_id": d.ID, "enabled": true}, nil); code != http.StatusOK {
		t.Fatalf("configure webhook: %d", code)
	}

	type result struct {
		code           int
		stdout, stderr string
	}
	res := make(chan result, 1)
	var out, errb lockedBuffer
	go func() {
		code := Run(context.Background(), []string{"replay", "--since", "1h", "--poll", "20ms", "--unreachable-for", "20s"},
			func(k string) string {
				return map[string]string{"SIGTRAIL_SERVER": base, "SIGTRAIL_TOKEN": replayToken}[k]
			}, strings.NewReader(""), &out, &errb)
		res <- result{code, out.String(), errb.String()}
	}()

	// Wait until the job runs (its first batch is held at the SIEM).
	deadline := time.Now().Add(20 * time.Second)
	for {
		var j struct{ Status string }
		apiCall(t, http.MethodGet, base+"/v3/audit-log-replay-job", replayToken, nil, &j)
		if j.Status == "running" && held.Load() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job did not start running; status %q", j.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	// Back only once the command has seen the server unreachable.
	for !strings.Contains(errb.String(), "still following") {
		select {
		case r := <-res:
			t.Fatalf("replay ended while the server was away: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		case <-time.After(5 * time.Millisecond):
		}
	}
	unhold()
	serveAt(t, dir, addr)

	select {
	case r := <-res:
		if r.code != 0 {
			t.Fatalf("replay: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		if !regexp.MustCompile(`(?m)^completed: (\d+) of \d+ entries sent$`).MatchString(r.stdout) {
			t.Errorf("no final progress line in:\n%s", r.stdout)
		}
		if !strings.Contains(r.stderr, "still following") || !strings.Contains(r.stderr, "answers again") {
			t.Errorf("the outage is not reported:\n%s", r.stderr)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("replay did not end after the restart")
	}
}

func TestReplayTransientErrors(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	refused := errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"no answer", context.Background(), refused, true},
		{"502", context.Background(), &apiError{status: 502}, true},
		{"503", context.Background(), &apiError{status: 503}, true},
		{"504", context.Background(), &apiError{status: 504}, true},
		{"500 is a bug, not a pause", context.Background(), &apiError{status: 500}, false},
		{"401", context.Background(), &apiError{status: 401}, false},
		{"404", context.Background(), &apiError{status: 404}, false},
		{"interrupted", canceled, refused, false},
	} {
		if got := transient(tc.ctx, tc.err); got != tc.want {
			t.Errorf("%s: transient = %v, want %v", tc.name, got, tc.want)
		}
	}
}
