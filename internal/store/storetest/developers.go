package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

func testDevelopers(t *testing.T, b Backend) {
	open := b.Open
	t.Run("Accounts", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o := mkOrg(t, s)
		p, q := mkPortal(t, s, o.ID), mkPortal(t, s, o.ID)
		d := mkDeveloper(t, s, p, "Ada@Example.com")
		got, err := s.GetDeveloper(ctxT(t), p.ID, d.ID)
		must(t, err, "GetDeveloper")
		if !same(got, d) {
			t.Fatalf("GetDeveloper = %+v, want %+v", got, d)
		}
		for _, email := range []string{"Ada@Example.com", "ada@example.com", "ADA@EXAMPLE.COM"} {
			got, err := s.GetDeveloperByEmail(ctxT(t), p.ID, email)
			must(t, err, "GetDeveloperByEmail "+email)
			if got.ID != d.ID || got.Email != "Ada@Example.com" {
				t.Errorf("GetDeveloperByEmail(%q) = %s %q", email, got.ID, got.Email)
			}
		}
		lookups := []struct {
			name string
			err  error
		}{
			{"GetDeveloper through another portal", func() error { _, err := s.GetDeveloper(ctxT(t), q.ID, d.ID); return err }()},
			{"GetDeveloper unknown", func() error { _, err := s.GetDeveloper(ctxT(t), p.ID, newID(t)); return err }()},
			{"GetDeveloperByEmail in another portal", func() error { _, err := s.GetDeveloperByEmail(ctxT(t), q.ID, "ada@example.com"); return err }()},
		}
		for _, c := range lookups {
			wantCode(t, c.err, apperr.NotFound, c.name)
		}
		dup := d
		dup.ID, dup.Email = newID(t), "ADA@example.COM"
		wantCode(t, s.CreateDeveloper(ctxT(t), dup), apperr.Conflict, "CreateDeveloper with a taken email in another case")
		dup.PortalID = q.ID
		must(t, s.CreateDeveloper(ctxT(t), dup), "CreateDeveloper with the same email in another portal")
		unknownPortal := d
		unknownPortal.ID, unknownPortal.PortalID = newID(t), newID(t)
		wantCode(t, s.CreateDeveloper(ctxT(t), unknownPortal), apperr.NotFound, "CreateDeveloper in an unknown portal")

		d.FullName, d.Status, d.EmailVerified, d.FailedLogins = "Ada L.", store.DeveloperRevoked, true, 3
		d.FailedSince, d.LockedUntil, d.UpdatedAt = at(2*time.Hour), at(3*time.Hour), at(2*time.Hour)
		must(t, s.UpdateDeveloper(ctxT(t), d), "UpdateDeveloper")
		got, _ = s.GetDeveloper(ctxT(t), p.ID, d.ID)
		if !same(got, d) {
			t.Fatalf("after UpdateDeveloper: %+v, want %+v", got, d)
		}
		other := mkDeveloper(t, s, p, "grace@example.com")
		other.Email = "ADA@EXAMPLE.COM"
		wantCode(t, s.UpdateDeveloper(ctxT(t), other), apperr.Conflict, "UpdateDeveloper to a taken email")
		moved := d
		moved.PortalID = q.ID
		wantCode(t, s.UpdateDeveloper(ctxT(t), moved), apperr.NotFound, "UpdateDeveloper through another portal")
	})

	t.Run("ListPages", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o := mkOrg(t, s)
		p, q := mkPortal(t, s, o.ID), mkPortal(t, s, o.ID)
		var all []string
		for i := range 5 {
			all = append(all, mkDeveloper(t, s, p, fmt.Sprintf("dev%d@example.com", i)).ID)
		}
		mkDeveloper(t, s, q, "dev0@example.com")
		checkPages(t, all, func(pg store.Page) ([]string, bool) {
			got, more, err := s.ListDevelopers(ctxT(t), p.ID, pg)
			must(t, err, "ListDevelopers")
			return ids(got, func(d store.Developer) string { return d.ID }), more
		})
	})

	t.Run("Tokens", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o := mkOrg(t, s)
		p := mkPortal(t, s, o.ID)
		d := mkDeveloper(t, s, p, "dev@example.com")
		tok := func(name, purpose string, expires time.Time) store.DeveloperToken {
			return store.DeveloperToken{Hash: []byte(name), DeveloperID: d.ID, PortalID: p.ID, Purpose: purpose, CreatedAt: at(0), ExpiresAt: expires}
		}
		tokens := []store.DeveloperToken{
			tok("verify", store.PurposeVerifyEmail, at(time.Hour)),
			tok("reset", store.PurposeResetPassword, at(2*time.Hour)),
			tok("session-1", store.PurposeSession, at(3*time.Hour)),
			tok("session-2", store.PurposeSession, at(4*time.Hour)),
			tok("refresh", store.PurposeRefresh, at(48*time.Hour)),
		}
		for _, x := range tokens {
			must(t, s.CreateDeveloperToken(ctxT(t), x), "CreateDeveloperToken")
		}
		wantCode(t, s.CreateDeveloperToken(ctxT(t), tokens[0]), apperr.Conflict, "CreateDeveloperToken with a taken hash")
		unknownDev := tok("orphan", store.PurposeSession, at(time.Hour))
		unknownDev.DeveloperID = newID(t)
		wantCode(t, s.CreateDeveloperToken(ctxT(t), unknownDev), apperr.NotFound, "CreateDeveloperToken for an unknown developer")

		got, err := s.GetDeveloperToken(ctxT(t), []byte("reset"))
		must(t, err, "GetDeveloperToken")
		if !same(got, tokens[1]) {
			t.Fatalf("GetDeveloperToken = %+v, want %+v", got, tokens[1])
		}
		got, err = s.ConsumeDeveloperToken(ctxT(t), []byte("verify"))
		must(t, err, "ConsumeDeveloperToken")
		if !same(got, tokens[0]) {
			t.Fatalf("ConsumeDeveloperToken = %+v, want %+v", got, tokens[0])
		}
		_, err = s.ConsumeDeveloperToken(ctxT(t), []byte("verify"))
		wantCode(t, err, apperr.NotFound, "ConsumeDeveloperToken twice")

		// Of many concurrent uses of a one-time token exactly one succeeds.
		errs := make(chan error, 10)
		for range 10 {
			go func() { _, err := s.ConsumeDeveloperToken(ctxT(t), []byte("reset")); errs <- err }()
		}
		wins := 0
		for range 10 {
			if err := <-errs; err == nil {
				wins++
			} else {
				wantCode(t, err, apperr.NotFound, "concurrent ConsumeDeveloperToken")
			}
		}
		if wins != 1 {
			t.Fatalf("%d concurrent consumes succeeded, want 1", wins)
		}

		must(t, s.DeleteDeveloperTokens(ctxT(t), d.ID, store.PurposeSession), "DeleteDeveloperTokens")
		for _, h := range []string{"session-1", "session-2"} {
			_, err := s.GetDeveloperToken(ctxT(t), []byte(h))
			wantCode(t, err, apperr.NotFound, "GetDeveloperToken after DeleteDeveloperTokens "+h)
		}
		if _, err := s.GetDeveloperToken(ctxT(t), []byte("refresh")); err != nil {
			t.Fatalf("DeleteDeveloperTokens(session) removed the refresh token: %v", err)
		}

		must(t, s.CreateDeveloperToken(ctxT(t), tok("soon", store.PurposeSession, at(time.Hour))), "CreateDeveloperToken")
		n, err := s.DeleteExpiredDeveloperTokens(ctxT(t), at(time.Hour))
		must(t, err, "DeleteExpiredDeveloperTokens")
		if n != 1 {
			t.Fatalf("DeleteExpiredDeveloperTokens deleted %d, want 1 (expiry is inclusive)", n)
		}
		if _, err := s.GetDeveloperToken(ctxT(t), []byte("refresh")); err != nil {
			t.Fatalf("an unexpired token was deleted: %v", err)
		}

		must(t, s.DeleteDeveloper(ctxT(t), p.ID, d.ID), "DeleteDeveloper")
		_, err = s.GetDeveloperToken(ctxT(t), []byte("refresh"))
		wantCode(t, err, apperr.NotFound, "token after DeleteDeveloper")
		wantCode(t, s.DeleteDeveloper(ctxT(t), p.ID, d.ID), apperr.NotFound, "DeleteDeveloper twice")
	})

	// The tokens of one session end together, and only they: not another
	// session's, not tokens without a session.
	t.Run("Sessions", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o := mkOrg(t, s)
		p := mkPortal(t, s, o.ID)
		d := mkDeveloper(t, s, p, "dev@example.com")
		other := mkDeveloper(t, s, p, "other@example.com")
		tok := func(name string, dev store.Developer, purpose, session string) store.DeveloperToken {
			return store.DeveloperToken{Hash: []byte(name), DeveloperID: dev.ID, PortalID: p.ID, Purpose: purpose,
				CreatedAt: at(0), ExpiresAt: at(time.Hour), SessionID: session}
		}
		tokens := []store.DeveloperToken{
			tok("a-access", d, store.PurposeSession, "a"),
			tok("a-refresh", d, store.PurposeRefresh, "a"),
			tok("a-access-2", d, store.PurposeSession, "a"),
			tok("b-access", d, store.PurposeSession, "b"),
			tok("b-refresh", d, store.PurposeRefresh, "b"),
			tok("other-a", other, store.PurposeRefresh, "a"),
			tok("other-c", other, store.PurposeRefresh, "c"),
			tok("none", d, store.PurposeSession, ""),
			tok("verify", d, store.PurposeVerifyEmail, ""),
		}
		for _, x := range tokens {
			must(t, s.CreateDeveloperToken(ctxT(t), x), "CreateDeveloperToken")
		}
		got, err := s.GetDeveloperToken(ctxT(t), []byte("a-refresh"))
		must(t, err, "GetDeveloperToken")
		if !same(got, tokens[1]) {
			t.Fatalf("GetDeveloperToken = %+v, want %+v", got, tokens[1])
		}
		got, err = s.ConsumeDeveloperToken(ctxT(t), []byte("a-access-2"))
		must(t, err, "ConsumeDeveloperToken")
		if !same(got, tokens[2]) {
			t.Fatalf("ConsumeDeveloperToken = %+v, want %+v", got, tokens[2])
		}

		cases := []struct {
			name, session string
			want          int
			gone          []string
		}{
			{"empty session", "", 0, nil},
			{"unknown session", "z", 0, nil},
			{"session a", "a", 3, []string{"a-access", "a-refresh", "other-a"}},
			{"session a again", "a", 0, nil},
		}
		for _, c := range cases {
			n, err := s.DeleteDeveloperSession(ctxT(t), c.session)
			must(t, err, "DeleteDeveloperSession "+c.name)
			if n != c.want {
				t.Fatalf("DeleteDeveloperSession %s deleted %d, want %d", c.name, n, c.want)
			}
			for _, h := range c.gone {
				_, err := s.GetDeveloperToken(ctxT(t), []byte(h))
				wantCode(t, err, apperr.NotFound, "GetDeveloperToken after DeleteDeveloperSession "+h)
			}
		}
		for _, h := range []string{"b-access", "b-refresh", "other-c", "none", "verify"} {
			if _, err := s.GetDeveloperToken(ctxT(t), []byte(h)); err != nil {
				t.Fatalf("DeleteDeveloperSession removed %s: %v", h, err)
			}
		}
	})
	testDevelopersTwoHandles(t, b)
}
