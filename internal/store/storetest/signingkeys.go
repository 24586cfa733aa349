package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

func testSigningKeys(t *testing.T, b Backend) {
	open := b.Open
	t.Run("RotateAndPrune", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		key := func(id string, created time.Time) store.SigningKey {
			return store.SigningKey{ID: id, PrivateKey: bytes.Repeat([]byte(id[:1]), 64), CreatedAt: created}
		}
		k1, k2, k3 := key("k1", at(0)), key("k2", at(24*time.Hour)), key("k3", at(48*time.Hour))
		if keys, err := s.ListSigningKeys(ctxT(t)); err != nil || len(keys) != 0 {
			t.Fatalf("ListSigningKeys on an empty store = %v, %v", keys, err)
		}
		for _, k := range []store.SigningKey{k1, k2, k3} {
			must(t, s.AddSigningKey(ctxT(t), k), "AddSigningKey "+k.ID)
		}
		wantCode(t, s.AddSigningKey(ctxT(t), key("k1", at(72*time.Hour))), apperr.Conflict, "AddSigningKey with a taken id")
		// Each new key retired the previous one at its own creation.
		k1.RetiredAt, k2.RetiredAt = k2.CreatedAt, k3.CreatedAt
		checkKeys(t, s, k1, k2, k3)

		must(t, s.DeleteSigningKeysRetiredBefore(ctxT(t), at(24*time.Hour)), "DeleteSigningKeysRetiredBefore")
		checkKeys(t, s, k1, k2, k3) // k1 retired at exactly that instant: kept
		must(t, s.DeleteSigningKeysRetiredBefore(ctxT(t), at(24*time.Hour+time.Millisecond)), "DeleteSigningKeysRetiredBefore")
		checkKeys(t, s, k2, k3)
		must(t, s.DeleteSigningKeysRetiredBefore(ctxT(t), at(1000*time.Hour)), "DeleteSigningKeysRetiredBefore")
		checkKeys(t, s, k3) // the active key is never pruned
	})
	testSigningKeysTwoHandles(t, b)
}

func checkKeys(t *testing.T, s store.Store, want ...store.SigningKey) {
	t.Helper()
	got, err := s.ListSigningKeys(ctxT(t))
	must(t, err, "ListSigningKeys")
	if len(got) != len(want) {
		t.Fatalf("ListSigningKeys = %d keys, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || !bytes.Equal(g.PrivateKey, w.PrivateKey) || !g.CreatedAt.Equal(w.CreatedAt) || !g.RetiredAt.Equal(w.RetiredAt) {
			t.Errorf("key %d = %s created %v retired %v, want %s created %v retired %v",
				i, g.ID, g.CreatedAt, g.RetiredAt, w.ID, w.CreatedAt, w.RetiredAt)
		}
	}
}
