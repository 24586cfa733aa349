package cli

import (
	"context"
	"strings"
	"testing"
	"time"
)

// serveUntilReady runs serve on port 0 until it prints its addresses, then
// stops it and returns what it wrote to stderr.
func serveUntilReady(t *testing.T, env map[string]string, dir string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errs := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "--data-dir", dir, "--addr", "127.0.0.1:0", "--portal-addr", "127.0.0.1:0"},
			func(k string) string { return env[k] }, strings.NewReader(""), out, errs)
	}()
	for deadline := time.Now().Add(30 * time.Second); !serveLine.MatchString(out.String()); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s", errs.String())
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exit %d: %s", code, errs.String())
	}
	return errs.String()
}

func TestServeWithoutOrgsSaysHowToGetAToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	errs := serveUntilReady(t, nil, dir)
	if strings.Count(errs, "sigtrail token create") != 1 || !strings.Contains(errs, "SIGTRAIL_BOOTSTRAP_TOKEN") {
		t.Fatalf("no hint, or more than one, on how to get a token: %s", errs)
	}
	// With a bootstrap token, or once an org exists, nothing to say.
	env := map[string]string{"SIGTRAIL_BOOTSTRAP_TOKEN": strings.Repeat("s", 32)}
	if errs := serveUntilReady(t, env, t.TempDir()); strings.Contains(errs, "token create") {
		t.Errorf("hint despite a bootstrap token: %s", errs)
	}
	if code, _, e := runCLI(t, nil, "", "org", "create", "acme", "--data-dir", dir); code != 0 {
		t.Fatal(e)
	}
	if errs := serveUntilReady(t, nil, dir); strings.Contains(errs, "token create") {
		t.Errorf("hint despite an org: %s", errs)
	}
}

func TestServeRefusesAShortBootstrapToken(t *testing.T) {
	t.Parallel()
	env := map[string]string{"SIGTRAIL_BOOTSTRAP_TOKEN": strings.Repeat("s", 31)}
	code, _, errs := runCLI(t, env, "", "serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--portal-addr", "127.0.0.1:0")
	if code == 0 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "at least 32") {
		t.Fatalf("exit %d, stderr %q; want one line asking for 32 characters", code, errs)
	}
}

func TestServeHelpListsEnvironmentOnlySettings(t *testing.T) {
	t.Parallel()
	code, _, errs := runCLI(t, nil, "", "serve", "--help")
	if code != 0 || !strings.Contains(errs, "SIGTRAIL_BOOTSTRAP_TOKEN") || !strings.Contains(errs, "-data-dir") {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
}
