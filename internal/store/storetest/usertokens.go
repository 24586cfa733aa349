package storetest

import (
	"bytes"
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

func testUserTokens(t *testing.T, b Backend) {
	t.Run("OneUse", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		o := mkOrg(t, s)
		u := mkUser(t, s, o.ID, "tok@example.com", store.RoleReadOnly)
		sum := sha256.Sum256([]byte("secret-1"))
		tok := store.UserToken{Hash: sum[:], UserID: u.ID, OrgID: o.ID, Purpose: store.PurposeSetPassword,
			CreatedAt: at(0), ExpiresAt: at(24 * time.Hour)}
		must(t, s.CreateUserToken(ctxT(t), tok), "CreateUserToken")
		wantCode(t, s.CreateUserToken(ctxT(t), tok), apperr.Conflict, "CreateUserToken with a reused hash")
		unknown := tok
		unknown.Hash, unknown.UserID = []byte("other-hash"), newID(t)
		wantCode(t, s.CreateUserToken(ctxT(t), unknown), apperr.NotFound, "CreateUserToken for an unknown user")
		for range 2 { // looking does not use it up
			g, err := s.GetUserToken(ctxT(t), sum[:])
			must(t, err, "GetUserToken")
			if g.UserID != u.ID || g.Purpose != tok.Purpose || !g.ExpiresAt.Equal(tok.ExpiresAt) {
				t.Fatalf("GetUserToken = %+v, want %+v", g, tok)
			}
		}
		_, err := s.GetUserToken(ctxT(t), []byte("unknown"))
		wantCode(t, err, apperr.NotFound, "GetUserToken unknown")

		// Two replicas racing to use one token: exactly one gets it.
		var wg sync.WaitGroup
		got := make([]store.UserToken, 4)
		errs := make([]error, 4)
		for i := range got {
			wg.Go(func() { got[i], errs[i] = s.ConsumeUserToken(ctxT(t), sum[:]) })
		}
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
				g := got[i]
				if !bytes.Equal(g.Hash, tok.Hash) || g.UserID != u.ID || g.OrgID != o.ID || g.Purpose != tok.Purpose ||
					!g.CreatedAt.Equal(tok.CreatedAt) || !g.ExpiresAt.Equal(tok.ExpiresAt) {
					t.Errorf("ConsumeUserToken = %+v, want %+v", g, tok)
				}
			default:
				wantCode(t, err, apperr.NotFound, "ConsumeUserToken after another used it")
			}
		}
		if won != 1 {
			t.Fatalf("%d concurrent ConsumeUserToken calls got the token, want 1", won)
		}
	})

	t.Run("Deletion", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		o := mkOrg(t, s)
		u := mkUser(t, s, o.ID, "del@example.com", store.RoleReadOnly)
		v := mkUser(t, s, o.ID, "keep@example.com", store.RoleReadOnly)
		mk := func(secret, userID, purpose string, expires time.Time) []byte {
			sum := sha256.Sum256([]byte(secret))
			must(t, s.CreateUserToken(ctxT(t), store.UserToken{Hash: sum[:], UserID: userID, OrgID: o.ID, Purpose: purpose,
				CreatedAt: at(0), ExpiresAt: expires}), "CreateUserToken "+secret)
			return sum[:]
		}
		a := mk("a", u.ID, store.PurposeSetPassword, at(time.Hour))
		other := mk("b", u.ID, "other", at(time.Hour))
		kept := mk("c", v.ID, store.PurposeSetPassword, at(time.Hour))
		old := mk("d", v.ID, store.PurposeSetPassword, at(-time.Minute))
		must(t, s.DeleteUserTokens(ctxT(t), u.ID, store.PurposeSetPassword), "DeleteUserTokens")
		_, err := s.ConsumeUserToken(ctxT(t), a)
		wantCode(t, err, apperr.NotFound, "a deleted token")
		_, err = s.ConsumeUserToken(ctxT(t), other)
		must(t, err, "a token of another purpose survives DeleteUserTokens")
		n, err := s.DeleteExpiredUserTokens(ctxT(t), at(0))
		must(t, err, "DeleteExpiredUserTokens")
		if n != 1 {
			t.Fatalf("DeleteExpiredUserTokens = %d, want 1", n)
		}
		_, err = s.ConsumeUserToken(ctxT(t), old)
		wantCode(t, err, apperr.NotFound, "an expired, swept token")
		_, err = s.ConsumeUserToken(ctxT(t), kept)
		must(t, err, "an unexpired token of another user")
	})
}
