package storetest

import (
	"testing"

	"github.com/sigtrail/sigtrail/internal/store"
)

// CheckUpgradedUser checks a store opened on a database that held, before
// the identities migration (SQLite 0014, PostgreSQL 0012), the orgs org-1
// and org-2 and org-1's user user-1: Bob@BigCorp.com, org-admin, enabled,
// password hash "$argon2id$old", 2 failures since 5 ns, locked until 7 ns;
// its session (hash 0x01), its device token (0x02) and its API token tok-1
// (0x03). After the migration user-1 is one identity with the same id and
// secrets (its password taken as org-1's choice) and its one membership, whose session and tokens still work, and
// org-2 can add the address, joining that identity.
func CheckUpgradedUser(t *testing.T, s store.Store) {
	t.Helper()
	ctx := ctxT(t)
	u, err := s.GetUser(ctx, "org-1", "user-1")
	must(t, err, "GetUser")
	if u.IdentityID != "user-1" || u.Email != "Bob@BigCorp.com" || u.Role != store.RoleOrgAdmin || u.Disabled {
		t.Fatalf("user after the migration: %+v", u)
	}
	id, err := s.GetIdentityByEmail(ctx, "bob@bigcorp.com")
	must(t, err, "GetIdentityByEmail")
	// Nobody knows who chose an old password: it is taken as its org's.
	if id.ID != "user-1" || id.PasswordHash != "$argon2id$old" || id.FailedLogins != 2 || id.LockedUntil.UnixNano() != 7 ||
		id.PasswordOrgID != "org-1" {
		t.Fatalf("identity after the migration: %+v", id)
	}
	if sess, err := s.GetUserSession(ctx, []byte{1}); err != nil || sess.UserID != "user-1" {
		t.Fatalf("session after the migration: %+v %v", sess, err)
	}
	if ut, err := s.GetUserToken(ctx, []byte{2}); err != nil || ut.UserID != "user-1" {
		t.Fatalf("user token after the migration: %+v %v", ut, err)
	}
	if tok, err := s.GetTokenByHash(ctx, []byte{3}); err != nil || tok.OwnerUserID != "user-1" {
		t.Fatalf("owned token after the migration: %+v %v", tok, err)
	}
	v, created, err := s.CreateUser(ctx, store.User{ID: "user-2", OrgID: "org-2", Email: "bob@bigcorp.com", Role: store.RoleReadOnly},
		store.Identity{ID: "ident-2"})
	if err != nil || created || v.IdentityID != "user-1" {
		t.Fatalf("adding the address to another org after the migration: %+v created %v: %v", v, created, err)
	}
}
