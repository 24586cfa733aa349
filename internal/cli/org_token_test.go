package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/tenancy"
)

// runCLI runs one command and returns its exit status and output.
func runOrgCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestOrgAndTokenCommands(t *testing.T) {
	t.Parallel()
	dir := dataDirWithDB(t)
	env := map[string]string{"SIGTRAIL_DATA_DIR": dir}

	code, out, errOut := runOrgCLI(t, env, "org", "create", "acme")
	if code != 0 || !strings.HasSuffix(strings.TrimSpace(out), "\tacme") {
		t.Fatalf("org create: %d %q %q", code, out, errOut)
	}
	// Flags may come before or after the name.
	other := dataDirWithDB(t)
	if code, out, errOut := runOrgCLI(t, nil, "org", "create", "--data-dir", other, "beta"); code != 0 || !strings.Contains(out, "beta") {
		t.Fatalf("org create with a flag first: %d %q %q", code, out, errOut)
	}
	if code, out, _ := runOrgCLI(t, nil, "org", "list", "--data-dir", other); code != 0 || !strings.Contains(out, "\tbeta\t") || strings.Contains(out, "acme") {
		t.Fatalf("org list of the other dir: %d %q", code, out)
	}

	var secret string
	code, out, errOut = runOrgCLI(t, env, "token", "create", "--org", "acme", "--role", "audit-log-admin", "--name", "ci", "--expires", "720h")
	if code != 0 {
		t.Fatalf("token create: %d %q", code, errOut)
	}
	secret = strings.TrimSpace(out)
	if !strings.HasPrefix(secret, tenancy.PATPrefix) || strings.Count(out, "\n") != 1 || !strings.Contains(errOut, "shown only this once") {
		t.Fatalf("token create printed %q / %q", out, errOut)
	}
	code, out, _ = runOrgCLI(t, env, "token", "create", "--org", "acme", "--role", "producer", "--name", "gw", "--system")
	if code != 0 || !strings.HasPrefix(out, tenancy.SPATPrefix) {
		t.Fatalf("system token: %d %q", code, out)
	}

	// The secrets work, and only their hashes are stored.
	st, err := openStore(context.Background(), dir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tok, err := tenancy.New(st, clock.Real{}).Authenticate(context.Background(), secret)
	if err != nil || tok.Role != store.RoleAuditLogAdmin || tok.Name != "ci" || tok.ExpiresAt.IsZero() {
		t.Fatalf("authenticate the printed secret: %+v %v", tok, err)
	}
	if bytes.Contains(tok.Hash, []byte(secret)) || len(tok.Hash) != 32 {
		t.Fatalf("stored hash %x", tok.Hash)
	}

	// An operator can get a token for the system org's log before any
	// request of no org created it.
	if code, out, errOut := runOrgCLI(t, env, "token", "create", "--org", tenancy.SystemOrgName, "--role", "read-only", "--name", "ops"); code != 0 || !strings.HasPrefix(out, tenancy.PATPrefix) {
		t.Fatalf("system org token: %d %q %q", code, out, errOut)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"org", "create", "acme"}, "already exists"},
		{[]string{"org", "create", "_system2"}, "must start with a letter or digit"},
		{[]string{"org", "create"}, "usage"},
		{[]string{"org", "delete", "acme"}, "usage"},
		{[]string{"token", "create", "--role", "read-only", "--name", "x"}, "--org is required"},
		{[]string{"token", "create", "--org", "nope", "--role", "read-only", "--name", "x"}, "no org named"},
		{[]string{"token", "create", "--org", "acme", "--role", "root", "--name", "x"}, "unknown role"},
		{[]string{"token", "create", "--org", "acme", "--role", "read-only"}, "--name is required"},
		{[]string{"token", "create", "--org", "acme", "--role", "read-only", "--name", "x", "--expires", "-1h"}, "must not be negative"},
		{[]string{"token", "create", "--org", "acme", "--role", "read-only", "--name", "x", "--expires", "soon"}, "invalid value"},
	} {
		code, out, errOut := runOrgCLI(t, env, tc.args...)
		if code == 0 || out != "" || !strings.Contains(errOut, tc.want) || strings.Count(strings.TrimSpace(errOut), "\n") > 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want a failure naming %q", tc.args, code, out, errOut, tc.want)
		}
	}
}
