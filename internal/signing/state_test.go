package signing

import (
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

// TestNewState covers which stored key signs, which waits and which are
// published, at a given instant.
func TestNewState(t *testing.T) {
	t.Parallel()
	key := func(id string, created, retired time.Duration) store.SigningKey {
		seed := make([]byte, ed25519.SeedSize)
		copy(seed, id)
		k := store.SigningKey{ID: id, PrivateKey: ed25519.NewKeyFromSeed(seed), CreatedAt: t0.Add(created)}
		if retired != 0 {
			k.RetiredAt = t0.Add(retired)
		}
		return k
	}
	h := time.Hour
	tests := []struct {
		name      string
		stored    []store.SigningKey // oldest first
		now       time.Duration
		signer    string
		next      string
		published []string
	}{
		{"empty store", nil, 0, "", "", nil},
		{"one active key", []store.SigningKey{key("a", -h, 0)}, 0, "a", "", []string{"a"}},
		{"rotation pending", []store.SigningKey{key("a", -h, h), key("b", h, 0)}, 0, "a", "b", []string{"b", "a"}},
		{"rotation done", []store.SigningKey{key("a", -h, h), key("b", h, 0)}, 2 * h, "b", "", []string{"b", "a"}},
		{"retired past retention dropped", []store.SigningKey{key("a", -9*24*h, -8*24*h), key("b", -8*24*h, 0)}, 0, "b", "", []string{"b"}},
		{"two rotations within the delay", []store.SigningKey{key("a", -h, h), key("b", h, 2*h), key("c", 2*h, 0)}, 90 * time.Minute, "b", "c", []string{"c", "b", "a"}},
		{"only a pending key", []store.SigningKey{key("a", h, 0)}, 0, "a", "", []string{"a"}},
		// Two replicas' first keys added at once: b, read from the clock
		// first but stored last, retired a before a was created.
		{"first key retired by a concurrent one created before it", []store.SigningKey{key("b", -2*time.Millisecond, 0), key("a", -time.Millisecond, -2*time.Millisecond)}, 0, "b", "", []string{"a", "b"}},
		{"concurrent first keys created at the same instant", []store.SigningKey{key("b", -time.Millisecond, 0), key("a", -time.Millisecond, -time.Millisecond)}, 0, "b", "", []string{"a", "b"}},
		{"all retired: none active", []store.SigningKey{key("a", -2*h, -h)}, 0, "", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := t0.Add(tc.now)
			st, err := newState(tc.stored, now, now.Add(-week))
			if err != nil {
				t.Fatal(err)
			}
			if st == nil {
				if tc.signer != "" {
					t.Fatalf("no state, want %q signing", tc.signer)
				}
				return
			}
			if st.activeID != tc.signer || st.nextID != tc.next {
				t.Fatalf("signer %q next %q, want %q %q", st.activeID, st.nextID, tc.signer, tc.next)
			}
			var ids []string
			for _, k := range st.published {
				ids = append(ids, k.ID)
			}
			if len(ids) != len(tc.published) {
				t.Fatalf("published %v, want %v", ids, tc.published)
			}
			for i := range ids {
				if ids[i] != tc.published[i] {
					t.Fatalf("published %v, want %v", ids, tc.published)
				}
			}
		})
	}
}
