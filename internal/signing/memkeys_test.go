package signing

import (
	"context"
	"sync"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

// memKeys implements store.SigningKeys over a slice. It exists only for the
// unit tests of the keyring's own logic (rotation, retention, reload); the
// keyring is also tested against the real SQLite store.
type memKeys struct {
	mu   sync.Mutex
	keys []store.SigningKey
}

func (m *memKeys) ListSigningKeys(context.Context) ([]store.SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]store.SigningKey(nil), m.keys...), nil
}

func (m *memKeys) AddSigningKey(_ context.Context, k store.SigningKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.keys {
		if m.keys[i].ID == k.ID {
			return apperr.New(apperr.Conflict, "key exists")
		}
		if m.keys[i].RetiredAt.IsZero() {
			m.keys[i].RetiredAt = k.CreatedAt
		}
	}
	m.keys = append(m.keys, k)
	return nil
}

func (m *memKeys) DeleteSigningKeysRetiredBefore(_ context.Context, t time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	kept := m.keys[:0]
	for _, k := range m.keys {
		if k.RetiredAt.IsZero() || !k.RetiredAt.Before(t) {
			kept = append(kept, k)
		}
	}
	m.keys = kept
	return nil
}
