package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/tenancy"
)

func TestTokenListAndRevoke(t *testing.T) {
	t.Parallel()
	env := map[string]string{"SIGTRAIL_DATA_DIR": dataDirWithDB(t)}
	if code, _, errOut := runOrgCLI(t, env, "org", "create", "acme"); code != 0 {
		t.Fatalf("org create: %s", errOut)
	}
	_, out, _ := runOrgCLI(t, env, "token", "create", "--org", "acme", "--role", "read-only", "--name", "dashboards")
	secret := strings.TrimSpace(out)

	code, list, errOut := runOrgCLI(t, env, "token", "list", "--org", "acme")
	fields := strings.Split(strings.TrimSpace(list), "\t")
	if code != 0 || strings.Count(list, "\n") != 1 || len(fields) != 6 || fields[1] != "read-only" || fields[5] != "dashboards" {
		t.Fatalf("token list: %d %q %q", code, list, errOut)
	}
	if strings.Contains(list, secret) || strings.Contains(list, tenancy.PATPrefix) {
		t.Fatal("token list shows a secret")
	}

	st, err := openStore(context.Background(), env["SIGTRAIL_DATA_DIR"], "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ten := tenancy.New(st, clock.Real{})
	if _, err := ten.Authenticate(context.Background(), secret); err != nil {
		t.Fatalf("the new token is refused: %v", err)
	}
	if code, _, errOut := runOrgCLI(t, env, "token", "revoke", "--org", "acme", fields[0]); code != 0 || !strings.Contains(errOut, "revoked") {
		t.Fatalf("token revoke: %d %q", code, errOut)
	}
	if _, err := ten.Authenticate(context.Background(), secret); !apperr.Is(err, apperr.Unauthorized) {
		t.Fatalf("a revoked token authenticates: %v", err)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"token", "revoke", "--org", "acme", fields[0]}, "has no token"},
		{[]string{"token", "revoke", "--org", "acme"}, "exactly one TOKEN_ID"},
		{[]string{"token", "list"}, "--org is required"},
		{[]string{"token", "list", "--org", "nobody"}, `no org named "nobody"`},
		{[]string{"token", "frob"}, "usage: sigtrail token"},
	} {
		code, _, errOut := runOrgCLI(t, env, c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want non-zero mentioning %q", c.args, code, errOut, c.want)
		}
	}
}
