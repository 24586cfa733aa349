package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// ListSigningKeys lists every key, oldest first.
func (s *Store) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	out, _, err := list(s, ctx, "list signing keys",
		"SELECT id, private_key, created_at, retired_at FROM signing_keys ORDER BY created_at, id", nil, store.Page{},
		func(sc scanner) (store.SigningKey, error) {
			var k store.SigningKey
			var created, retired int64
			err := sc.Scan(&k.ID, &k.PrivateKey, &created, &retired)
			k.CreatedAt = sqlcodec.FromNS(created)
			k.RetiredAt = sqlcodec.FromNS(retired)
			return k, err
		})
	return out, err
}

// AddSigningKey stores k and retires the active key at k.CreatedAt, in one
// transaction that first locks the table against other writers (readers
// go on), so two replicas rotating at once still leave exactly one active
// key: the second retires the first's.
func (s *Store) AddSigningKey(ctx context.Context, k store.SigningKey) error {
	return s.write(ctx, "add signing key", func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return err
		}
		if k.RetiredAt.IsZero() {
			if _, err := tx.Exec(ctx, "UPDATE signing_keys SET retired_at = $1 WHERE retired_at = 0", sqlcodec.ToNS(k.CreatedAt)); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, "INSERT INTO signing_keys (id, private_key, created_at, retired_at) VALUES ($1, $2, $3, $4)",
			k.ID, k.PrivateKey, sqlcodec.ToNS(k.CreatedAt), sqlcodec.ToNS(k.RetiredAt))
		if err != nil {
			return constraint(err, "signing key")
		}
		return notify(ctx, tx, change{K: "k"})
	})
}

// DeleteSigningKeysRetiredBefore deletes keys retired before t; the active
// key is never deleted.
func (s *Store) DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) error {
	return s.write(ctx, "delete signing keys", func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM signing_keys WHERE retired_at <> 0 AND retired_at < $1", sqlcodec.ToNS(t))
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return notify(ctx, tx, change{K: "k"})
	})
}

// ReplaceSigningKeyPrivate rewrites a key's stored private key from old to
// new (the same key sealed differently, see sealing.Reseal); a key whose
// stored value is no longer old is left alone. The key itself is
// unchanged, so no replica needs telling.
func (s *Store) ReplaceSigningKeyPrivate(ctx context.Context, id string, old, new []byte) error {
	return s.write(ctx, "replace signing key", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE signing_keys SET private_key = $1 WHERE id = $2 AND private_key = $3", new, id, old)
		return err
	})
}
