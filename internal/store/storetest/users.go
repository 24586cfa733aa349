package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

func mkUser(t *testing.T, s store.Store, orgID, email string, role store.Role) store.User {
	t.Helper()
	u := store.User{ID: newID(t), OrgID: orgID, Email: email, Role: role,
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA", CreatedAt: at(time.Hour), UpdatedAt: at(time.Hour)}
	must(t, s.CreateUser(ctxT(t), u), "CreateUser")
	return u
}

func testUsers(t *testing.T, b Backend) {
	t.Run("Accounts", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		o, other := mkOrg(t, s), mkOrg(t, s)
		u := mkUser(t, s, o.ID, "Ada@Example.com", store.RoleOrgAdmin)
		got, err := s.GetUser(ctxT(t), o.ID, u.ID)
		must(t, err, "GetUser")
		if !same(got, u) {
			t.Fatalf("GetUser = %+v, want %+v", got, u)
		}
		for _, email := range []string{"Ada@Example.com", "ada@example.com", "ADA@EXAMPLE.COM"} {
			got, err := s.GetUserByEmail(ctxT(t), email)
			must(t, err, "GetUserByEmail "+email)
			if !same(got, u) {
				t.Errorf("GetUserByEmail(%q) = %+v", email, got)
			}
		}
		cases := []struct {
			name string
			err  error
			code apperr.Code
		}{
			{"GetUser through another org", func() error { _, err := s.GetUser(ctxT(t), other.ID, u.ID); return err }(), apperr.NotFound},
			{"GetUser unknown", func() error { _, err := s.GetUser(ctxT(t), o.ID, newID(t)); return err }(), apperr.NotFound},
			{"GetUserByEmail unknown", func() error { _, err := s.GetUserByEmail(ctxT(t), "nobody@example.com"); return err }(), apperr.NotFound},
			{"CreateUser with a taken email in another org and case", func() error {
				dup := u
				dup.ID, dup.OrgID, dup.Email = newID(t), other.ID, "ADA@example.COM"
				return s.CreateUser(ctxT(t), dup)
			}(), apperr.Conflict},
			{"CreateUser in an unknown org", func() error {
				x := u
				x.ID, x.OrgID, x.Email = newID(t), newID(t), "x@example.com"
				return s.CreateUser(ctxT(t), x)
			}(), apperr.NotFound},
			{"UpdateUser through another org", func() error { x := u; x.OrgID = other.ID; return s.UpdateUser(ctxT(t), x) }(), apperr.NotFound},
		}
		for _, c := range cases {
			wantCode(t, c.err, c.code, c.name)
		}
		u.Email, u.Role, u.Disabled, u.PasswordHash = "ada@example.org", store.RoleReadOnly, true, "$argon2id$new"
		u.FailedLogins, u.FailedSince, u.LockedUntil, u.UpdatedAt = 2, at(2*time.Hour), at(3*time.Hour), at(2*time.Hour)
		must(t, s.UpdateUser(ctxT(t), u), "UpdateUser")
		got, err = s.GetUser(ctxT(t), o.ID, u.ID)
		must(t, err, "GetUser after update")
		if !same(got, u) {
			t.Fatalf("after UpdateUser: %+v, want %+v", got, u)
		}
		grace := mkUser(t, s, o.ID, "grace@example.com", store.RoleReadOnly)
		grace.Email = "ADA@example.ORG"
		wantCode(t, s.UpdateUser(ctxT(t), grace), apperr.Conflict, "UpdateUser to a taken email")
		mkUser(t, s, other.ID, "someone@example.com", store.RoleOrgAdmin)
		list, err := s.ListUsers(ctxT(t), o.ID)
		must(t, err, "ListUsers")
		if len(list) != 2 || list[0].ID != u.ID || list[1].ID != grace.ID {
			t.Fatalf("ListUsers = %+v, want Ada then Grace of this org only", list)
		}
	})

	t.Run("Lockout", func(t *testing.T) {
		t.Parallel()
		a, bb := b.OpenPair(t)
		o := mkOrg(t, a)
		u := mkUser(t, a, o.ID, "lock@example.com", store.RoleOrgAdmin)
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
				if _, err := s.RecordUserLoginFailure(ctxT(t), u.ID, now, policy); err != nil {
					t.Errorf("RecordUserLoginFailure: %v", err)
				}
			})
		}
		wg.Wait()
		got, err := a.GetUser(ctxT(t), o.ID, u.ID)
		must(t, err, "GetUser")
		if got.FailedLogins != 9 || !got.FailedSince.Equal(now) || !got.LockedUntil.IsZero() {
			t.Fatalf("after 9 concurrent failures: %d since %v locked %v", got.FailedLogins, got.FailedSince, got.LockedUntil)
		}
		got, err = bb.RecordUserLoginFailure(ctxT(t), u.ID, now, policy)
		must(t, err, "RecordUserLoginFailure 10")
		if !got.LockedUntil.Equal(now.Add(30*time.Minute)) || got.FailedLogins != 0 || !policy.LockedUser(got, now) {
			t.Fatalf("the tenth failure did not lock: %+v", got)
		}
		must(t, a.ClearUserLoginFailures(ctxT(t), u.ID), "ClearUserLoginFailures")
		got, _ = bb.GetUser(ctxT(t), o.ID, u.ID)
		if got.FailedLogins != 0 || !got.FailedSince.IsZero() || !got.LockedUntil.IsZero() || got.PasswordHash != u.PasswordHash {
			t.Fatalf("after ClearUserLoginFailures: %+v", got)
		}
		_, err = a.RecordUserLoginFailure(ctxT(t), newID(t), now, policy)
		wantCode(t, err, apperr.NotFound, "RecordUserLoginFailure of an unknown user")
		wantCode(t, a.ClearUserLoginFailures(ctxT(t), newID(t)), apperr.NotFound, "ClearUserLoginFailures of an unknown user")
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
