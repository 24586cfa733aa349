package cli

import (
	"regexp"
	"strings"
	"testing"
)

// A small end-to-end run: an in-process server, the ingest API, the
// webhook, the sink checking every signature.
func TestBenchCommand(t *testing.T) {
	stdout := benchInProcess(t, "--entries", "500", "--batch", "40", "--concurrency", "2", "--verify-every", "1", "--sign-for", "200ms")
	for _, want := range []string{
		`delivered:  500 lines in \d+ requests`,
		`signatures: 500 verified, 0 failed`,
		`latency:    ingest to receipt p50 \d+ ms`,
		`server:     pid \d+, CPU [0-9.]+s .* peak RSS [0-9.]+ MB`,
		// The raw signing rate of the same run and the ratio to it, and CPU
		// per event (issue 14).
		`raw sign:   [1-9]\d* Ed25519 signatures/s on \d+ goroutines`,
		`raw after:  [1-9]\d* Ed25519 signatures/s, measured 200ms after the run`,
		`ratio:      end to end / raw signing = [0-9]+\.[0-9]{2} `,
		`of one core over the run, [0-9]+\.[0-9]{3} ms per event\)`,
	} {
		if !regexp.MustCompile(want).MatchString(stdout) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

// A paced run at one event per request: the feeder hands out the requests.
func TestBenchCommandPaced(t *testing.T) {
	stdout := benchInProcess(t, "--entries", "200", "--batch", "1", "--rate", "2000", "--concurrency", "3", "--sign-for", "0")
	if want := regexp.MustCompile(`delivered:  200 lines in \d+ requests`); !want.MatchString(stdout) {
		t.Errorf("output lacks %q:\n%s", want, stdout)
	}
}

// benchInProcess runs `sigtrail bench --in-process` with args on a fresh data
// directory, in parallel with other tests, and returns its output.
func benchInProcess(t *testing.T, args ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("boots a server")
	}
	t.Parallel()
	args = append([]string{"bench", "--in-process", "--data-dir", t.TempDir()}, args...)
	code, stdout, stderr := runCLI(t, map[string]string{}, "", args...)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, stdout, stderr)
	}
	return stdout
}

func TestBenchCommandUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"bench", "--entries", "0"},
		{"bench", "--server", "http://127.0.0.1:1"},
		{"bench", "--format", "xml"},
		{"bench", "extra"},
	} {
		code, _, stderr := runCLI(t, nil, "", args...)
		if code == 0 || strings.TrimSpace(stderr) == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}
