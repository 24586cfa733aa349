package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

const userTokenCols = "hash, user_id, org_id, purpose, created_at, expires_at"

func scanUserToken(sc scanner) (store.UserToken, error) {
	var t store.UserToken
	var created, expires int64
	err := sc.Scan(&t.Hash, &t.UserID, &t.OrgID, &t.Purpose, &created, &expires)
	t.CreatedAt = sqlcodec.FromNS(created)
	t.ExpiresAt = sqlcodec.FromNS(expires)
	return t, err
}

// CreateUserToken stores a token; an unknown user is NotFound, a reused
// hash a Conflict.
func (s *Store) CreateUserToken(ctx context.Context, t store.UserToken) error {
	return s.write(ctx, "create user token", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO user_tokens ("+userTokenCols+") VALUES ($1,$2,$3,$4,$5,$6)",
			t.Hash, t.UserID, t.OrgID, t.Purpose, sqlcodec.ToNS(t.CreatedAt), sqlcodec.ToNS(t.ExpiresAt))
		return constraint(err, "user token")
	})
}

// GetUserToken finds a token by hash without using it up.
func (s *Store) GetUserToken(ctx context.Context, hash []byte) (store.UserToken, error) {
	return getOne(s, ctx, "get user token", "user token",
		"SELECT "+userTokenCols+" FROM user_tokens WHERE hash = $1", scanUserToken, hash)
}

// ConsumeUserToken deletes a token and returns it, in one statement.
func (s *Store) ConsumeUserToken(ctx context.Context, hash []byte) (store.UserToken, error) {
	var t store.UserToken
	err := s.write(ctx, "consume user token", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		t, err = scanUserToken(tx.QueryRow(ctx, "DELETE FROM user_tokens WHERE hash = $1 RETURNING "+userTokenCols, hash))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("user token")
		}
		return err
	})
	if err != nil {
		return store.UserToken{}, err
	}
	return t, nil
}

// DeleteUserTokens deletes a user's tokens of one purpose (all when
// purpose is empty).
func (s *Store) DeleteUserTokens(ctx context.Context, userID, purpose string) error {
	return s.write(ctx, "delete user tokens", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM user_tokens WHERE user_id = $1 AND ($2 = '' OR purpose = $2)", userID, purpose)
		return err
	})
}

// DeleteExpiredUserTokens deletes tokens expired at now and says how many.
func (s *Store) DeleteExpiredUserTokens(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, "delete expired user tokens", func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM user_tokens WHERE expires_at <= $1", sqlcodec.ToNS(now))
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}
