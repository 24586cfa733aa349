package sqlite

import (
	"context"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// ListSigningKeys lists every key, oldest first.
func (s *Store) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT id, private_key, created_at, retired_at FROM signing_keys ORDER BY created_at, id")
	if err != nil {
		return nil, s.internal(err, "list signing keys")
	}
	out, err := collectRows(rows, func(sc interface{ Scan(...any) error }) (store.SigningKey, error) {
		var k store.SigningKey
		var created, retired int64
		err := sc.Scan(&k.ID, &k.PrivateKey, &created, &retired)
		k.CreatedAt = sqlcodec.FromNS(created)
		k.RetiredAt = sqlcodec.FromNS(retired)
		return k, err
	})
	return out, s.internal(err, "list signing keys")
}

// AddSigningKey stores k and retires the active key at k.CreatedAt, in one
// transaction, so there is never a moment with two or no active keys.
func (s *Store) AddSigningKey(ctx context.Context, k store.SigningKey) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		if k.RetiredAt.IsZero() {
			if _, err := q.ExecContext(ctx, "UPDATE signing_keys SET retired_at = ? WHERE retired_at = 0", sqlcodec.ToNS(k.CreatedAt)); err != nil {
				return err
			}
		}
		_, err := q.ExecContext(ctx, "INSERT INTO signing_keys (id, private_key, created_at, retired_at) VALUES (?, ?, ?, ?)",
			k.ID, k.PrivateKey, sqlcodec.ToNS(k.CreatedAt), sqlcodec.ToNS(k.RetiredAt))
		return constraint(err, "signing key")
	})
	return s.internal(err, "add signing key")
}

// DeleteSigningKeysRetiredBefore deletes keys retired before t; the active
// key is never deleted.
func (s *Store) DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		_, err := q.ExecContext(ctx, "DELETE FROM signing_keys WHERE retired_at <> 0 AND retired_at < ?", sqlcodec.ToNS(t))
		return err
	})
	return s.internal(err, "delete signing keys")
}

// ReplaceSigningKeyPrivate rewrites a key's stored private key from old to
// new (the same key sealed differently, see sealing.Reseal); a key whose
// stored value is no longer old is left alone.
func (s *Store) ReplaceSigningKeyPrivate(ctx context.Context, id string, old, new []byte) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		_, err := q.ExecContext(ctx, "UPDATE signing_keys SET private_key = ? WHERE id = ? AND private_key = ?", new, id, old)
		return err
	})
	return s.internal(err, "replace signing key")
}
