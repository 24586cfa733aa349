package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

const testHash = "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA"

// mkUser adds a user of the org with email, creating its identity (with
// testHash) unless the address has one.
func mkUser(t *testing.T, s store.Store, orgID, email string, role store.Role) store.User {
	t.Helper()
	u, _, err := s.CreateUser(ctxT(t), store.User{ID: newID(t), OrgID: orgID, Email: email, Role: role,
		CreatedAt: at(time.Hour), UpdatedAt: at(time.Hour)}, newIdentity(t, testHash))
	must(t, err, "CreateUser")
	return u
}

func newIdentity(t *testing.T, hash string) store.Identity {
	t.Helper()
	return store.Identity{ID: newID(t), PasswordHash: hash, CreatedAt: at(time.Hour), UpdatedAt: at(time.Hour)}
}

func testUsers(t *testing.T, b Backend) {
	t.Run("Accounts", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		o, other := mkOrg(t, s), mkOrg(t, s)
		ident := newIdentity(t, testHash)
		ident.PasswordOrgID = o.ID // the org's admin chose the password
		u, created, err := s.CreateUser(ctxT(t), store.User{ID: newID(t), OrgID: o.ID, Email: "Ada@Example.com", Role: store.RoleOrgAdmin,
			CreatedAt: at(time.Hour), UpdatedAt: at(time.Hour)}, ident)
		must(t, err, "CreateUser")
		if !created || u.IdentityID != ident.ID || u.Email != "Ada@Example.com" {
			t.Fatalf("CreateUser = %+v, created %v; want a new identity %s", u, created, ident.ID)
		}
		got, err := s.GetUser(ctxT(t), o.ID, u.ID)
		must(t, err, "GetUser")
		if !same(got, u) {
			t.Fatalf("GetUser = %+v, want %+v", got, u)
		}
		for _, email := range []string{"Ada@Example.com", "ada@example.com", "ADA@EXAMPLE.COM"} {
			got, err := s.GetUserByEmail(ctxT(t), o.ID, email)
			must(t, err, "GetUserByEmail "+email)
			if !same(got, u) {
				t.Errorf("GetUserByEmail(%q) = %+v", email, got)
			}
			id, err := s.GetIdentityByEmail(ctxT(t), email)
			must(t, err, "GetIdentityByEmail "+email)
			if id.ID != ident.ID || id.Email != "Ada@Example.com" || id.PasswordHash != testHash || id.PasswordOrgID != o.ID {
				t.Errorf("GetIdentityByEmail(%q) = %+v", email, id)
			}
		}
		cases := []struct {
			name string
			err  error
			code apperr.Code
		}{
			{"GetUser through another org", func() error { _, err := s.GetUser(ctxT(t), other.ID, u.ID); return err }(), apperr.NotFound},
			{"GetUser unknown", func() error { _, err := s.GetUser(ctxT(t), o.ID, newID(t)); return err }(), apperr.NotFound},
			{"GetUserByEmail of another org", func() error { _, err := s.GetUserByEmail(ctxT(t), other.ID, "ada@example.com"); return err }(), apperr.NotFound},
			{"GetUserByEmail unknown", func() error { _, err := s.GetUserByEmail(ctxT(t), o.ID, "nobody@example.com"); return err }(), apperr.NotFound},
			{"GetIdentity unknown", func() error { _, err := s.GetIdentity(ctxT(t), newID(t)); return err }(), apperr.NotFound},
			{"GetIdentityByEmail unknown", func() error { _, err := s.GetIdentityByEmail(ctxT(t), "nobody@example.com"); return err }(), apperr.NotFound},
			{"CreateUser with an email the org has, in another case", func() error {
				_, _, err := s.CreateUser(ctxT(t), store.User{ID: newID(t), OrgID: o.ID, Email: "ADA@example.COM", Role: store.RoleReadOnly},
					newIdentity(t, ""))
				return err
			}(), apperr.Conflict},
			{"CreateUser in an unknown org", func() error {
				_, _, err := s.CreateUser(ctxT(t), store.User{ID: newID(t), OrgID: newID(t), Email: "x@example.com", Role: store.RoleReadOnly},
					newIdentity(t, ""))
				return err
			}(), apperr.NotFound},
			{"UpdateUser through another org", func() error { x := u; x.OrgID = other.ID; return s.UpdateUser(ctxT(t), x) }(), apperr.NotFound},
			{"SetIdentityPassword unknown", s.SetIdentityPassword(ctxT(t), newID(t), testHash, at(0)), apperr.NotFound},
		}
		for _, c := range cases {
			wantCode(t, c.err, c.code, c.name)
		}
		u.Role, u.Disabled, u.UpdatedAt = store.RoleReadOnly, true, at(2*time.Hour)
		must(t, s.UpdateUser(ctxT(t), u), "UpdateUser")
		got, err = s.GetUser(ctxT(t), o.ID, u.ID)
		must(t, err, "GetUser after update")
		if !same(got, u) {
			t.Fatalf("after UpdateUser: %+v, want %+v", got, u)
		}
		// The person's own password is no org's.
		must(t, s.SetIdentityPassword(ctxT(t), ident.ID, "$argon2id$own", at(3*time.Hour)), "SetIdentityPassword")
		if id, err := s.GetIdentity(ctxT(t), ident.ID); err != nil || id.PasswordOrgID != "" || id.PasswordHash != "$argon2id$own" {
			t.Fatalf("after SetIdentityPassword: %+v, %v", id, err)
		}
		grace := mkUser(t, s, o.ID, "grace@example.com", store.RoleReadOnly)
		mkUser(t, s, other.ID, "someone@example.com", store.RoleOrgAdmin)
		list, err := s.ListUsers(ctxT(t), o.ID)
		must(t, err, "ListUsers")
		if len(list) != 2 || !same(list[0], u) || !same(list[1], grace) {
			t.Fatalf("ListUsers = %+v, want Ada then Grace of this org only", list)
		}
	})

	t.Run("Lockout", func(t *testing.T) {
		t.Parallel()
		a, bb := b.OpenPair(t)
		o, other := mkOrg(t, a), mkOrg(t, a)
		u := mkUser(t, a, o.ID, "lock@example.com", store.RoleOrgAdmin)
		v := mkUser(t, a, other.ID, "LOCK@example.com", store.RoleReadOnly)
		policy := store.LockoutPolicy{MaxFailures: 10, Window: time.Hour, Duration: 30 * time.Minute}
		now := at(2 * time.Hour)
		// Failures answered by two replicas at once all count.
		var wg sync.WaitGroup
		for i := range 9 {
			wg.Go(func() {
				s := a
				if i%2 == 1 {
					s = bb
				}
				if _, err := s.RecordIdentityLoginFailure(ctxT(t), u.IdentityID, now, policy); err != nil {
					t.Errorf("RecordIdentityLoginFailure: %v", err)
				}
			})
		}
		wg.Wait()
		got, err := a.GetIdentity(ctxT(t), u.IdentityID)
		must(t, err, "GetIdentity")
		if got.FailedLogins != 9 || !got.FailedSince.Equal(now) || !got.LockedUntil.IsZero() {
			t.Fatalf("after 9 concurrent failures: %d since %v locked %v", got.FailedLogins, got.FailedSince, got.LockedUntil)
		}
		got, err = bb.RecordIdentityLoginFailure(ctxT(t), u.IdentityID, now, policy)
		must(t, err, "RecordIdentityLoginFailure 10")
		if !got.LockedUntil.Equal(now.Add(30*time.Minute)) || got.FailedLogins != 0 || !policy.LockedIdentity(got, now) {
			t.Fatalf("the tenth failure did not lock: %+v", got)
		}
		// The lock is the person's: both orgs' users show it.
		for _, x := range []store.User{u, v} {
			got, err := a.GetUser(ctxT(t), x.OrgID, x.ID)
			must(t, err, "GetUser")
			if !got.LockedUntil.Equal(now.Add(30 * time.Minute)) {
				t.Fatalf("user of org %s: locked until %v, want the identity's lock", x.OrgID, got.LockedUntil)
			}
		}
		must(t, a.ClearIdentityLoginFailures(ctxT(t), u.IdentityID), "ClearIdentityLoginFailures")
		got, _ = bb.GetIdentity(ctxT(t), u.IdentityID)
		if got.FailedLogins != 0 || !got.FailedSince.IsZero() || !got.LockedUntil.IsZero() || got.PasswordHash != testHash {
			t.Fatalf("after ClearIdentityLoginFailures: %+v", got)
		}
		_, err = a.RecordIdentityLoginFailure(ctxT(t), newID(t), now, policy)
		wantCode(t, err, apperr.NotFound, "RecordIdentityLoginFailure of an unknown identity")
		wantCode(t, a.ClearIdentityLoginFailures(ctxT(t), newID(t)), apperr.NotFound, "ClearIdentityLoginFailures of an unknown identity")
	})

	t.Run("Sessions", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		o := mkOrg(t, s)
		u := mkUser(t, s, o.ID, "s@example.com", store.RoleOrgAdmin)
		v := mkUser(t, s, o.ID, "v@example.com", store.RoleReadOnly)
		mk := func(hash string, user store.User, expires time.Time) store.UserSession {
			x := store.UserSession{Hash: []byte(hash), UserID: user.ID, OrgID: o.ID, CreatedAt: at(0), ExpiresAt: expires}
			must(t, s.CreateUserSession(ctxT(t), x), "CreateUserSession "+hash)
			return x
		}
		s1 := mk("one", u, at(time.Hour))
		mk("two", u, at(2*time.Hour))
		mk("three", v, at(3*time.Hour))
		wantCode(t, s.CreateUserSession(ctxT(t), s1), apperr.Conflict, "CreateUserSession with a taken hash")
		orphan := s1
		orphan.Hash, orphan.UserID = []byte("orphan"), newID(t)
		wantCode(t, s.CreateUserSession(ctxT(t), orphan), apperr.NotFound, "CreateUserSession of an unknown user")
		got, err := s.GetUserSession(ctxT(t), []byte("one"))
		must(t, err, "GetUserSession")
		if !same(got, s1) {
			t.Fatalf("GetUserSession = %+v, want %+v", got, s1)
		}
		must(t, s.DeleteUserSession(ctxT(t), []byte("one")), "DeleteUserSession")
		_, err = s.GetUserSession(ctxT(t), []byte("one"))
		wantCode(t, err, apperr.NotFound, "GetUserSession after DeleteUserSession")
		wantCode(t, s.DeleteUserSession(ctxT(t), []byte("one")), apperr.NotFound, "DeleteUserSession twice")
		mk("four", u, at(4*time.Hour))
		must(t, s.DeleteUserSessions(ctxT(t), u.ID), "DeleteUserSessions")
		for _, h := range []string{"two", "four"} {
			_, err := s.GetUserSession(ctxT(t), []byte(h))
			wantCode(t, err, apperr.NotFound, "GetUserSession after DeleteUserSessions "+h)
		}
		mk("five", u, at(time.Hour))
		n, err := s.DeleteExpiredUserSessions(ctxT(t), at(time.Hour))
		must(t, err, "DeleteExpiredUserSessions")
		if n != 1 {
			t.Fatalf("DeleteExpiredUserSessions deleted %d, want 1 (expiry is inclusive)", n)
		}
		if _, err := s.GetUserSession(ctxT(t), []byte("three")); err != nil {
			t.Fatalf("another user's unexpired session went: %v", err)
		}
	})
}
