package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/signing"
)

func TestKeysRotateAndList(t *testing.T) {
	t.Parallel()
	dir := dataDirWithDB(t)
	env := map[string]string{"SIGTRAIL_DATA_DIR": dir}

	code, out, errOut := runCLI(t, env, "", "keys", "list")
	if code != 0 || !strings.Contains(out, "no signing keys yet") {
		t.Fatalf("empty list: exit %d, %q %q", code, out, errOut)
	}
	code, out, _ = runCLI(t, env, "", "keys", "rotate")
	first := regexp.MustCompile(`created the first key (\S+)`).FindStringSubmatch(out)
	if code != 0 || first == nil {
		t.Fatalf("first rotate: exit %d, %q", code, out)
	}
	code, out, _ = runCLI(t, nil, "", "keys", "rotate", "--data-dir", dir)
	m := regexp.MustCompile(`new key (\S+) is published now and signs from \S+ .*\n(\S+) signs until then and stays published until`).FindStringSubmatch(out)
	if code != 0 || m == nil || m[2] != first[1] || m[1] == first[1] {
		t.Fatalf("rotate: exit %d, %q", code, out)
	}
	code, out, _ = runCLI(t, nil, "", "keys", "list", "--db", filepath.Join(dir, "sigtrail.db"))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[1], m[1]+" ") || !strings.Contains(lines[1], "published, signs from") ||
		!strings.HasPrefix(lines[2], first[1]+" ") || !strings.Contains(lines[2], ", published until") {
		t.Fatalf("list: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "sigtrail.db")); err != nil {
		t.Fatal(err)
	}
}

// TestKeysRotateThenVerify: lines signed before and after a rotation both
// verify against the JWKS published right after the rotation.
func TestKeysRotateThenVerify(t *testing.T) {
	t.Parallel()
	k, dir := testKeyring(t)
	before := signedLine(k, "cef", 1)
	if code, out, errOut := runCLI(t, nil, "", "keys", "rotate", "--data-dir", dir); code != 0 {
		t.Fatalf("rotate: %d %s %s", code, out, errOut)
	}
	if err := k.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	jwks := writeJWKS(t, k.JWKS())
	// A server whose clock has passed the activation signs with the new key.
	st, err := openStore(t.Context(), dir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	later, err := signing.Open(t.Context(), st, clock.NewFake(time.Now().Add(signing.ActivationDelay+time.Second)), 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if later.ActiveID() == k.ActiveID() || later.ActiveID() != k.Keys()[0].ID {
		t.Fatalf("after the activation %q signs; before it %q; newest %q", later.ActiveID(), k.ActiveID(), k.Keys()[0].ID)
	}
	after := signedLine(later, "json", 2)
	in := string(before) + "\n" + string(after) + "\n"
	code, out, _ := runCLI(t, nil, in, "verify", "--jwks", jwks)
	if code != 0 || out != "2 verified, 0 failed\n" {
		t.Fatalf("exit %d: %s", code, out)
	}
}

func TestKeysUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"keys"}, 2},
		{[]string{"keys", "burn"}, 2},
		{[]string{"keys", "list", "extra"}, 2},
		{[]string{"keys", "list", "--db", "postgres://x/y"}, 1},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			if code, _, errOut := runCLI(t, nil, "", tc.args...); code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, errOut)
			}
		})
	}
}
