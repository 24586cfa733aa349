package storetest

import (
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

// testIdentities checks the identity model: an email is unique per org,
// one identity (password, lockout) per person across orgs, and what is
// done to a user of one org stays in that org.
func testIdentities(t *testing.T, b Backend) {
	t.Run("SameEmailInTwoOrgs", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		o, other := mkOrg(t, s), mkOrg(t, s)
		first := mkUser(t, s, o.ID, "Bob@BigCorp.com", store.RoleOrgAdmin)
		// The second org adds the address (another case, another hash):
		// it gets its own user of the same identity, whose password stays,
		// with the address as it wrote it.
		u, created, err := s.CreateUser(ctxT(t), store.User{ID: newID(t), OrgID: other.ID, Email: "bob@bigcorp.com",
			Role: store.RoleReadOnly, CreatedAt: at(0), UpdatedAt: at(0)}, store.Identity{ID: newID(t), PasswordHash: "$argon2id$chosen-by-the-second-org",
			PasswordOrgID: other.ID})
		must(t, err, "CreateUser in the second org")
		if created || u.IdentityID != first.IdentityID || u.Email != "bob@bigcorp.com" || u.ID == first.ID {
			t.Fatalf("CreateUser in the second org = %+v, created %v; want a new user of identity %s", u, created, first.IdentityID)
		}
		id, err := s.GetIdentity(ctxT(t), first.IdentityID)
		must(t, err, "GetIdentity")
		if id.PasswordHash != testHash || id.PasswordOrgID != "" {
			t.Fatalf("adding the address to another org changed the password to %q of org %q", id.PasswordHash, id.PasswordOrgID)
		}
		for _, c := range []struct {
			org  string
			want store.User
		}{{o.ID, first}, {other.ID, u}} {
			got, err := s.GetUserByEmail(ctxT(t), c.org, "BOB@bigcorp.com")
			must(t, err, "GetUserByEmail")
			if !same(got, c.want) {
				t.Errorf("GetUserByEmail in org %s = %+v, want %+v", c.org, got, c.want)
			}
		}
		all, err := s.ListIdentityUsers(ctxT(t), first.IdentityID)
		must(t, err, "ListIdentityUsers")
		if len(all) != 2 || !same(all[0], first) || !same(all[1], u) {
			t.Fatalf("ListIdentityUsers = %+v, want %+v and %+v", all, first, u)
		}
		for _, org := range []string{o.ID, other.ID} {
			list, err := s.ListUsers(ctxT(t), org)
			must(t, err, "ListUsers")
			if len(list) != 1 {
				t.Fatalf("ListUsers of org %s = %+v, want its one user", org, list)
			}
		}
	})

	t.Run("NewAddressAddedByTwoOrgsAtOnce", func(t *testing.T) {
		t.Parallel()
		a, bb := b.OpenPair(t)
		for i := range 10 {
			o, other := mkOrg(t, a), mkOrg(t, a)
			email := "race" + newID(t) + "@example.com"
			var wg sync.WaitGroup
			users := make([]store.User, 2)
			made := make([]bool, 2)
			for j, s := range []store.Store{a, bb} {
				org := []string{o.ID, other.ID}[j]
				wg.Go(func() {
					var err error
					users[j], made[j], err = s.CreateUser(ctxT(t), store.User{ID: newID(t), OrgID: org, Email: email,
						Role: store.RoleReadOnly, CreatedAt: at(0), UpdatedAt: at(0)}, newIdentity(t, ""))
					if err != nil {
						t.Errorf("round %d: CreateUser: %v", i, err)
					}
				})
			}
			wg.Wait()
			if made[0] == made[1] || users[0].IdentityID != users[1].IdentityID || users[0].IdentityID == "" {
				t.Fatalf("round %d: created %v, identities %q and %q; want one identity created once", i, made,
					users[0].IdentityID, users[1].IdentityID)
			}
		}
	})

	t.Run("DisableInOneOrgLeavesTheOther", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		u, v := mkPersonOfTwoOrgs(t, s, "both@example.com")
		uTok, vTok := mkOwnedToken(t, s, u.OrgID, u.ID), mkOwnedToken(t, s, v.OrgID, v.ID)
		uSess, vSess := mkUserSession(t, s, u), mkUserSession(t, s, v)
		revoked, err := s.DisableUser(ctxT(t), u.OrgID, u.ID, at(time.Minute))
		must(t, err, "DisableUser")
		if len(revoked) != 1 || revoked[0].ID != uTok.ID {
			t.Fatalf("DisableUser revoked %+v, want only %s", revoked, uTok.ID)
		}
		_, err = s.GetUserSession(ctxT(t), uSess)
		wantCode(t, err, apperr.NotFound, "the disabled user's session")
		if _, err := s.GetUserSession(ctxT(t), vSess); err != nil {
			t.Fatalf("the other org's session ended: %v", err)
		}
		if _, err := s.GetTokenByHash(ctxT(t), vTok.Hash); err != nil {
			t.Fatalf("the other org's user lost its token: %v", err)
		}
		got, err := s.GetUser(ctxT(t), v.OrgID, v.ID)
		must(t, err, "GetUser in the other org")
		if got.Disabled {
			t.Fatal("disabling the user of one org disabled the other org's")
		}
		// Disabling through UpdateUser is as narrow.
		v.Disabled = true
		must(t, s.UpdateUser(ctxT(t), v), "UpdateUser disabling")
		got, _ = s.GetUser(ctxT(t), u.OrgID, u.ID)
		if !got.Disabled {
			t.Fatal("UpdateUser of the other org re-enabled this one")
		}
	})

	t.Run("PasswordChangeEndsSessionsInEveryOrg", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		u, v := mkPersonOfTwoOrgs(t, s, "pw@example.com")
		stranger := mkUser(t, s, u.OrgID, "stranger@example.com", store.RoleReadOnly)
		policy := store.LockoutPolicy{MaxFailures: 1, Window: time.Hour, Duration: time.Hour}
		_, err := s.RecordIdentityLoginFailure(ctxT(t), u.IdentityID, at(0), policy)
		must(t, err, "RecordIdentityLoginFailure")
		var gone [][]byte
		for _, x := range []store.User{u, v} {
			gone = append(gone, mkUserSession(t, s, x))
			for _, purpose := range []string{store.PurposeDevice, store.PurposeSetPassword, store.PurposeChooseOrg} {
				gone = append(gone, mkUserToken(t, s, x, purpose))
			}
		}
		kept := [][]byte{mkUserSession(t, s, stranger), mkUserToken(t, s, stranger, store.PurposeDevice)}
		uTok := mkOwnedToken(t, s, u.OrgID, u.ID)

		must(t, s.SetIdentityPassword(ctxT(t), u.IdentityID, "$argon2id$new", at(time.Minute)), "SetIdentityPassword")
		id, err := s.GetIdentity(ctxT(t), u.IdentityID)
		must(t, err, "GetIdentity")
		if id.PasswordHash != "$argon2id$new" || id.FailedLogins != 0 || !id.LockedUntil.IsZero() || !id.UpdatedAt.Equal(at(time.Minute)) {
			t.Fatalf("after SetIdentityPassword: %+v", id)
		}
		for i, h := range gone {
			_, errS := s.GetUserSession(ctxT(t), h)
			_, errT := s.GetUserToken(ctxT(t), h)
			if !apperr.Is(errS, apperr.NotFound) || !apperr.Is(errT, apperr.NotFound) {
				t.Errorf("session or token %d of the identity survived the new password", i)
			}
		}
		if _, err := s.GetUserSession(ctxT(t), kept[0]); err != nil {
			t.Errorf("another person's session ended: %v", err)
		}
		if _, err := s.GetUserToken(ctxT(t), kept[1]); err != nil {
			t.Errorf("another person's device token went: %v", err)
		}
		// API tokens are the org's business, not the password's.
		if _, err := s.GetTokenByHash(ctxT(t), uTok.Hash); err != nil {
			t.Errorf("a new password revoked an API token: %v", err)
		}
	})

	t.Run("LoginGrantOnlyOnTheCheckedPassword", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		u, v := mkPersonOfTwoOrgs(t, s, "grant@example.com")
		grant := func(hash string) (store.LoginGrant, []byte, []byte) {
			sh, th := sha256.Sum256([]byte("session "+newID(t))), sha256.Sum256([]byte("token "+newID(t)))
			return store.LoginGrant{IdentityID: u.IdentityID, PasswordHash: hash,
				Sessions: []store.UserSession{{Hash: sh[:], UserID: u.ID, OrgID: u.OrgID, CreatedAt: at(0), ExpiresAt: at(time.Hour)}},
				Tokens: []store.UserToken{{Hash: th[:], UserID: v.ID, OrgID: v.OrgID, Purpose: store.PurposeChooseOrg,
					CreatedAt: at(0), ExpiresAt: at(time.Hour)}}}, sh[:], th[:]
		}
		g, sh, th := grant(testHash)
		must(t, s.CreateLoginGrant(ctxT(t), g), "CreateLoginGrant on the current password")
		if _, err := s.GetUserSession(ctxT(t), sh); err != nil {
			t.Fatalf("the granted session: %v", err)
		}
		if _, err := s.GetUserToken(ctxT(t), th); err != nil {
			t.Fatalf("the granted token: %v", err)
		}
		must(t, s.SetIdentityPassword(ctxT(t), u.IdentityID, "$argon2id$new", at(time.Minute)), "SetIdentityPassword")
		g, sh, th = grant(testHash)
		wantCode(t, s.CreateLoginGrant(ctxT(t), g), apperr.Conflict, "CreateLoginGrant on the replaced password")
		_, errS := s.GetUserSession(ctxT(t), sh)
		_, errT := s.GetUserToken(ctxT(t), th)
		if !apperr.Is(errS, apperr.NotFound) || !apperr.Is(errT, apperr.NotFound) {
			t.Fatalf("a refused grant stored its session (%v) or token (%v)", errS, errT)
		}
	})

	// Whichever commits first, nothing granted on the old password
	// outlives the new one, across replicas.
	t.Run("LoginGrantRacingAPasswordChange", func(t *testing.T) {
		t.Parallel()
		a, bb := b.OpenPair(t)
		for i := range 10 {
			u := mkUser(t, a, mkOrg(t, a).ID, "racing"+newID(t)+"@example.com", store.RoleReadOnly)
			sh := sha256.Sum256([]byte("session " + newID(t)))
			g := store.LoginGrant{IdentityID: u.IdentityID, PasswordHash: testHash,
				Sessions: []store.UserSession{{Hash: sh[:], UserID: u.ID, OrgID: u.OrgID, CreatedAt: at(0), ExpiresAt: at(time.Hour)}}}
			var wg sync.WaitGroup
			var grantErr error
			wg.Go(func() { grantErr = bb.CreateLoginGrant(ctxT(t), g) })
			wg.Go(func() {
				if err := a.SetIdentityPassword(ctxT(t), u.IdentityID, "$argon2id$new", at(time.Minute)); err != nil {
					t.Errorf("round %d: SetIdentityPassword: %v", i, err)
				}
			})
			wg.Wait()
			if grantErr != nil && !apperr.Is(grantErr, apperr.Conflict) {
				t.Fatalf("round %d: CreateLoginGrant: %v", i, grantErr)
			}
			if _, err := a.GetUserSession(ctxT(t), sh[:]); !apperr.Is(err, apperr.NotFound) {
				t.Fatalf("round %d: a session granted on the old password survived the change (grant: %v, read: %v)", i, grantErr, err)
			}
		}
	})
}

// mkPersonOfTwoOrgs makes two orgs and a user of each at email: an
// org-admin of the first, read-only in the second.
func mkPersonOfTwoOrgs(t *testing.T, s store.Store, email string) (store.User, store.User) {
	t.Helper()
	return mkUser(t, s, mkOrg(t, s).ID, email, store.RoleOrgAdmin), mkUser(t, s, mkOrg(t, s).ID, email, store.RoleReadOnly)
}

// mkUserSession opens a session of u and returns its hash.
func mkUserSession(t *testing.T, s store.Store, u store.User) []byte {
	t.Helper()
	h := sha256.Sum256([]byte("session " + newID(t)))
	must(t, s.CreateUserSession(ctxT(t), store.UserSession{Hash: h[:], UserID: u.ID, OrgID: u.OrgID,
		CreatedAt: at(0), ExpiresAt: at(time.Hour)}), "CreateUserSession")
	return h[:]
}

// mkUserToken stores a user token of u for purpose and returns its hash.
func mkUserToken(t *testing.T, s store.Store, u store.User, purpose string) []byte {
	t.Helper()
	h := sha256.Sum256([]byte(purpose + newID(t)))
	must(t, s.CreateUserToken(ctxT(t), store.UserToken{Hash: h[:], UserID: u.ID, OrgID: u.OrgID, Purpose: purpose,
		CreatedAt: at(0), ExpiresAt: at(24 * time.Hour)}), "CreateUserToken")
	return h[:]
}
