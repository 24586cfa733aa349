package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store/sqlite"
)

// dataDirWithDB returns a data dir holding an empty database, as serve
// leaves it: admin commands refuse a dir without one.
func dataDirWithDB(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "sigtrail.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	return dir
}

func TestVerifyTakesFlagsAfterFiles(t *testing.T) {
	t.Parallel()
	k, _ := testKeyring(t)
	file := filepath.Join(t.TempDir(), "siem.log")
	if err := os.WriteFile(file, append(signedLine(k, audit.FormatCEF, 1), '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	jwks := writeJWKS(t, k.JWKS())
	for _, args := range [][]string{
		{"verify", file, "--jwks", jwks},
		{"verify", file, "--jwks=" + jwks, "--workers", "1"},
		{"verify", "--workers", "1", file, "--jwks", jwks},
	} {
		if code, out, errOut := runCLI(t, nil, "", args...); code != 0 || out != "1 verified, 0 failed\n" {
			t.Errorf("%q: exit %d, %q %q", args, code, out, errOut)
		}
	}
	// After "--" everything is a file, even what looks like a flag.
	if code, _, errOut := runCLI(t, nil, "", "verify", "--jwks", jwks, "--", "--workers"); code != 1 || !strings.Contains(errOut, "--workers") {
		t.Errorf("-- then a flag-like name: exit %d, stderr %q", code, errOut)
	}
}

func TestSplitArgs(t *testing.T) {
	t.Parallel()
	fs := newFlagSet("x", nil)
	fs.String("s", "", "")
	fs.Bool("b", false, "")
	flags, pos := splitArgs(fs, []string{"a", "-s", "v", "-", "--b", "c", "-s=w", "--unknown", "d", "--", "-s", "e"})
	if got, want := strings.Join(flags, " "), "-s v --b -s=w --unknown"; got != want {
		t.Errorf("flags %q, want %q", got, want)
	}
	if got, want := strings.Join(pos, " "), "a - c d -s e"; got != want {
		t.Errorf("positionals %q, want %q", got, want)
	}
}

func TestEveryCommandHelpExitsZero(t *testing.T) {
	t.Parallel()
	for _, c := range commands() {
		for _, h := range []string{"-h", "--help"} {
			args := []string{c.name, h}
			if code, _, errOut := runCLI(t, nil, "", args...); code != 0 || errOut == "" {
				t.Errorf("%q: exit %d, stderr %q; want 0 and a usage", args, code, errOut)
			}
		}
	}
	for _, args := range [][]string{{"keys", "list", "-h"}, {"org", "create", "--help"}, {"token", "create", "-h"}, {"token", "list", "-h"}} {
		if code, _, errOut := runCLI(t, nil, "", args...); code != 0 || errOut == "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
}

func TestDashDashVersion(t *testing.T) {
	t.Parallel()
	code, out, _ := runCLI(t, nil, "", "--version")
	_, want, _ := runCLI(t, nil, "", "version")
	if code != 0 || out != want || !strings.HasPrefix(out, "sigtrail ") {
		t.Fatalf("--version: exit %d, %q; version says %q", code, out, want)
	}
}

func TestVerifyNoLinesFails(t *testing.T) {
	t.Parallel()
	k, _ := testKeyring(t)
	empty := filepath.Join(t.TempDir(), "empty.log")
	os.WriteFile(empty, []byte("\n\n"), 0o600)
	code, out, errOut := runCLI(t, nil, "", "verify", "--jwks", writeJWKS(t, k.JWKS()), empty)
	if code != 1 || out != "0 verified, 0 failed\n" || !strings.Contains(errOut, "no lines to verify") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestParseDays(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"7d": 7 * 24 * time.Hour, "1d12h": 36 * time.Hour, "36h": 36 * time.Hour, "90m": 90 * time.Minute,
		"0d": 0, "-2d": -48 * time.Hour,
	} {
		if got, err := parseDays(in); err != nil || got != want {
			t.Errorf("parseDays(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"d", "7", "7dd", "1.5d", "7d-1h", "x7d", "999999999d"} {
		if _, err := parseDays(in); err == nil {
			t.Errorf("parseDays(%q) accepted", in)
		}
	}
	// replay reads it: 7d is a window, not "invalid value".
	if code, _, errOut := runCLI(t, nil, "", "replay", "--since", "7d"); code != 2 || !strings.Contains(errOut, "--token") {
		t.Errorf("replay --since 7d: exit %d, %q; want it to get as far as the missing token", code, errOut)
	}
}

func TestAdminCommandsRefuseADirWithoutDatabase(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"keys", "list"}, {"keys", "rotate"}, {"org", "list"}, {"org", "create", "acme"},
		{"token", "create", "--org", "acme", "--role", "read-only", "--name", "x"}, {"token", "list", "--org", "acme"}} {
		dir := filepath.Join(t.TempDir(), "typo")
		code, _, errOut := runCLI(t, nil, "", append(args, "--data-dir", dir)...)
		if code == 0 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, filepath.Join(dir, "sigtrail.db")) {
			t.Errorf("%q: exit %d, stderr %q; want one line naming the path", args, code, errOut)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%q created %s", args, dir)
		}
	}
}

func TestSubcommandAfterFlags(t *testing.T) {
	t.Parallel()
	dir := dataDirWithDB(t)
	for _, args := range [][]string{
		{"org", "--data-dir", dir, "create", "acme"},
		{"org", "--data-dir", dir, "list"},
		{"token", "--data-dir", dir, "--org", "acme", "create", "--role", "read-only", "--name", "list"},
		{"token", "--org", "acme", "--data-dir", dir, "list"},
		{"keys", "--data-dir", dir, "list"},
		{"keys", "--retention", "7d", "rotate", "--data-dir", dir},
	} {
		if code, out, errOut := runCLI(t, nil, "", args...); code != 0 {
			t.Errorf("%q: exit %d, %q %q", args, code, out, errOut)
		}
	}
	if code, _, errOut := runCLI(t, nil, "", "org", "--data-dir", dir, "-h"); code != 0 || errOut == "" {
		t.Errorf("org --data-dir D -h: exit %d", code)
	}
	if sub, rest := subcommand(newFlagSet("x", nil), []string{"-"}); sub != "" || len(rest) != 1 {
		t.Errorf("stdin is no subcommand: %q %q", sub, rest)
	}
}
