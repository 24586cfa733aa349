package storetest

import (
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

// mkOwnedToken creates a token of the org owned by ownerID ("" for an
// org-level token).
func mkOwnedToken(t *testing.T, s store.Store, orgID, ownerID string) store.Token {
	t.Helper()
	id := newID(t)
	sum := sha256.Sum256([]byte("secret-" + id))
	tok := store.Token{ID: id, OrgID: orgID, Name: "t-" + id, Role: store.RoleOrgAdmin, Hash: sum[:], CreatedAt: at(0), OwnerUserID: ownerID}
	must(t, s.CreateToken(ctxT(t), tok), "CreateToken")
	return tok
}

func testTokenOwners(t *testing.T, b Backend) {
	t.Run("OwnerIsKeptAndChecked", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		o, other := mkOrg(t, s), mkOrg(t, s)
		u := mkUser(t, s, o.ID, "owner@example.com", store.RoleOrgAdmin)
		stranger := mkUser(t, s, other.ID, "stranger@example.com", store.RoleOrgAdmin)
		owned, orgLevel := mkOwnedToken(t, s, o.ID, u.ID), mkOwnedToken(t, s, o.ID, "")
		for _, want := range []store.Token{owned, orgLevel} {
			got, err := s.GetTokenByHash(ctxT(t), want.Hash)
			must(t, err, "GetTokenByHash")
			if !same(got, want) {
				t.Errorf("GetTokenByHash = %+v, want %+v", got, want)
			}
		}
		list, err := s.ListTokens(ctxT(t), o.ID)
		must(t, err, "ListTokens")
		if len(list) != 2 || !same(list[0], owned) || !same(list[1], orgLevel) {
			t.Errorf("ListTokens = %+v, want %+v and %+v", list, owned, orgLevel)
		}
		cases := []struct {
			name  string
			owner string
			code  apperr.Code
		}{
			{"an unknown owner", newID(t), apperr.NotFound},
			{"an owner of another org", stranger.ID, apperr.NotFound},
		}
		for _, c := range cases {
			sum := sha256.Sum256([]byte(c.name))
			err := s.CreateToken(ctxT(t), store.Token{ID: newID(t), OrgID: o.ID, Name: "x", Role: store.RoleReadOnly,
				Hash: sum[:], CreatedAt: at(0), OwnerUserID: c.owner})
			wantCode(t, err, c.code, "CreateToken owned by "+c.name)
		}
	})

	t.Run("DisableRevokesOwnedTokensAndSessions", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		o := mkOrg(t, s)
		u := mkUser(t, s, o.ID, "leaving@example.com", store.RoleOrgAdmin)
		v := mkUser(t, s, o.ID, "staying@example.com", store.RoleOrgAdmin)
		mine := []store.Token{mkOwnedToken(t, s, o.ID, u.ID), mkOwnedToken(t, s, o.ID, u.ID)}
		theirs, orgLevel := mkOwnedToken(t, s, o.ID, v.ID), mkOwnedToken(t, s, o.ID, "")
		sess := sha256.Sum256([]byte("session of " + u.ID))
		must(t, s.CreateUserSession(ctxT(t), store.UserSession{Hash: sess[:], UserID: u.ID, OrgID: o.ID,
			CreatedAt: at(0), ExpiresAt: at(time.Hour)}), "CreateUserSession")
		// Its known browser and an emailed link: re-enabled, it trusts
		// neither.
		var userTokens [][]byte
		for _, purpose := range []string{store.PurposeDevice, store.PurposeSetPassword} {
			h := sha256.Sum256([]byte(purpose + " of " + u.ID))
			must(t, s.CreateUserToken(ctxT(t), store.UserToken{Hash: h[:], UserID: u.ID, OrgID: o.ID, Purpose: purpose,
				CreatedAt: at(0), ExpiresAt: at(24 * time.Hour)}), "CreateUserToken "+purpose)
			userTokens = append(userTokens, h[:])
		}

		_, err := s.DisableUser(ctxT(t), mkOrg(t, s).ID, u.ID, at(time.Minute))
		wantCode(t, err, apperr.NotFound, "DisableUser through another org")
		_, err = s.DisableUser(ctxT(t), o.ID, newID(t), at(time.Minute))
		wantCode(t, err, apperr.NotFound, "DisableUser of an unknown user")

		revoked, err := s.DisableUser(ctxT(t), o.ID, u.ID, at(time.Minute))
		must(t, err, "DisableUser")
		if len(revoked) != 2 || !same(revoked[0], mine[0]) || !same(revoked[1], mine[1]) {
			t.Fatalf("DisableUser revoked %+v, want %+v", revoked, mine)
		}
		for _, tok := range mine {
			_, err := s.GetTokenByHash(ctxT(t), tok.Hash)
			wantCode(t, err, apperr.NotFound, "GetTokenByHash of a revoked token")
		}
		for _, tok := range []store.Token{theirs, orgLevel} {
			_, err := s.GetTokenByHash(ctxT(t), tok.Hash)
			must(t, err, "GetTokenByHash of a token the user does not own")
		}
		_, err = s.GetUserSession(ctxT(t), sess[:])
		wantCode(t, err, apperr.NotFound, "GetUserSession of a disabled user")
		for _, h := range userTokens {
			_, err = s.GetUserToken(ctxT(t), h)
			wantCode(t, err, apperr.NotFound, "GetUserToken of a disabled user")
		}
		got, err := s.GetUser(ctxT(t), o.ID, u.ID)
		must(t, err, "GetUser")
		if !got.Disabled || !got.UpdatedAt.Equal(at(time.Minute)) {
			t.Errorf("after DisableUser: disabled %v, updated %v", got.Disabled, got.UpdatedAt)
		}

		// A disabled user owns no new token; disabling again is no error.
		sum := sha256.Sum256([]byte("after"))
		err = s.CreateToken(ctxT(t), store.Token{ID: newID(t), OrgID: o.ID, Name: "x", Role: store.RoleOrgAdmin,
			Hash: sum[:], CreatedAt: at(0), OwnerUserID: u.ID})
		wantCode(t, err, apperr.Conflict, "CreateToken owned by a disabled user")
		again, err := s.DisableUser(ctxT(t), o.ID, u.ID, at(2*time.Minute))
		must(t, err, "DisableUser again")
		if len(again) != 0 {
			t.Errorf("DisableUser again revoked %+v", again)
		}

		// UpdateUser that leaves a user disabled revokes as well.
		v.Disabled = true
		must(t, s.UpdateUser(ctxT(t), v), "UpdateUser disabling")
		_, err = s.GetTokenByHash(ctxT(t), theirs.Hash)
		wantCode(t, err, apperr.NotFound, "GetTokenByHash of a token whose owner UpdateUser disabled")
		_, err = s.GetTokenByHash(ctxT(t), orgLevel.Hash)
		must(t, err, "GetTokenByHash of the org-level token")
	})

	// A token created on one replica while another disables its owner
	// never survives the disabling: either it is revoked with the rest or
	// it is refused.
	t.Run("CreateRacingDisable", func(t *testing.T) {
		t.Parallel()
		a, bs := b.OpenPair(t)
		o := mkOrg(t, a)
		for i := range 20 {
			u := mkUser(t, a, o.ID, "racer"+newID(t)+"@example.com", store.RoleOrgAdmin)
			var wg sync.WaitGroup
			var createErr, disableErr error
			id := newID(t)
			sum := sha256.Sum256([]byte("race-" + id))
			wg.Go(func() {
				createErr = a.CreateToken(ctxT(t), store.Token{ID: id, OrgID: o.ID, Name: "x", Role: store.RoleOrgAdmin,
					Hash: sum[:], CreatedAt: at(0), OwnerUserID: u.ID})
			})
			wg.Go(func() { _, disableErr = bs.DisableUser(ctxT(t), o.ID, u.ID, at(time.Minute)) })
			wg.Wait()
			must(t, disableErr, "DisableUser")
			if createErr != nil {
				wantCode(t, createErr, apperr.Conflict, "CreateToken racing DisableUser")
			}
			for _, s := range []store.Store{a, bs} {
				if _, err := s.GetTokenByHash(ctxT(t), sum[:]); !apperr.Is(err, apperr.NotFound) {
					t.Fatalf("round %d: a token of a disabled user is live (create err %v): %v", i, createErr, err)
				}
			}
		}
	})
}
