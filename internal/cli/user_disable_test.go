package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/console"
	"github.com/sigtrail/sigtrail/internal/passwd"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/tenancy"
)

// TestUserDisableRevokesOwnedTokens: sigtrail user disable revokes the
// tokens the user owns (not the org's own), and records each revocation in
// the org log as done by the service (kong_initiated, no principal).
func TestUserDisableRevokesOwnedTokens(t *testing.T) {
	t.Parallel()
	dir := dataDirWithDB(t)
	env := map[string]string{"SIGTRAIL_DATA_DIR": dir}
	if code, _, errOut := runOrgCLI(t, env, "org", "create", "acme"); code != 0 {
		t.Fatalf("org create: %s", errOut)
	}
	_, out, _ := runOrgCLI(t, env, "token", "create", "--org", "acme", "--role", "org-admin", "--name", "operator")
	orgSecret := strings.TrimSpace(out)

	ctx := context.Background()
	st, err := openStore(ctx, dir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	o, err := st.GetOrgByName(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	u, _, err := console.CreateUser(ctx, st, console.UserSpec{OrgID: o.ID, Email: "eve@example.com", Role: store.RoleOrgAdmin,
		Password: "long enough password"}, passwd.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, clock.Real{}.Now())
	if err != nil {
		t.Fatal(err)
	}
	owned, ownedSecret, err := tenancy.New(st, clock.Real{}).CreateToken(ctx, tenancy.TokenSpec{OrgID: o.ID, Name: "eve-ci",
		Role: store.RoleOrgAdmin, OwnerUserID: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	code, _, errOut := runOrgCLI(t, env, "user", "disable", "--org", "acme", "eve@example.com")
	if code != 0 || !strings.Contains(errOut, "1 API tokens it owned revoked") {
		t.Fatalf("user disable: %d %q", code, errOut)
	}

	st, err = openStore(ctx, dir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ten := tenancy.New(st, clock.Real{})
	if _, err := ten.Authenticate(ctx, ownedSecret); !apperr.Is(err, apperr.Unauthorized) {
		t.Errorf("the disabled user's token: %v, want refused", err)
	}
	if _, err := ten.Authenticate(ctx, orgSecret); err != nil {
		t.Errorf("the org's token: %v", err)
	}
	es, err := st.Read(ctx, store.StreamID(o.ID), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var found int
	for _, x := range es {
		e := x.Entry
		if e.Name == "Authz.tokens/"+owned.ID {
			found++
			if e.Kind != audit.KindAuthorization || e.Action != audit.ActionDelete || !e.Granted || !e.KongInitiated || e.PrincipalID != "" {
				t.Errorf("revocation entry %+v", e)
			}
		}
	}
	if found != 1 {
		t.Errorf("%d revocation entries, want 1: %+v", found, es)
	}
}
