package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

const userTokenCols = "hash, user_id, org_id, purpose, created_at, expires_at"

func scanUserToken(sc interface{ Scan(...any) error }) (store.UserToken, error) {
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
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		_, err := q.ExecContext(ctx, "INSERT INTO user_tokens ("+userTokenCols+") VALUES (?,?,?,?,?,?)",
			t.Hash, t.UserID, t.OrgID, t.Purpose, sqlcodec.ToNS(t.CreatedAt), sqlcodec.ToNS(t.ExpiresAt))
		return constraint(err, "user token")
	})
	return s.internal(err, "create user token")
}

// GetUserToken finds a token by hash without using it up.
func (s *Store) GetUserToken(ctx context.Context, hash []byte) (store.UserToken, error) {
	t, err := scanUserToken(s.rdb.QueryRowContext(ctx, "SELECT "+userTokenCols+" FROM user_tokens WHERE hash = ?", hash))
	if errors.Is(err, sql.ErrNoRows) {
		return store.UserToken{}, notFound("user token")
	}
	return t, s.internal(err, "get user token")
}

// ConsumeUserToken deletes a token and returns it, in one statement.
func (s *Store) ConsumeUserToken(ctx context.Context, hash []byte) (store.UserToken, error) {
	var t store.UserToken
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		var err error
		t, err = scanUserToken(q.QueryRowContext(ctx, "DELETE FROM user_tokens WHERE hash = ? RETURNING "+userTokenCols, hash))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("user token")
		}
		return err
	})
	if err != nil {
		return store.UserToken{}, s.internal(err, "consume user token")
	}
	return t, nil
}

// DeleteUserTokens deletes a user's tokens of one purpose (all when
// purpose is empty).
func (s *Store) DeleteUserTokens(ctx context.Context, userID, purpose string) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		_, err := q.ExecContext(ctx, "DELETE FROM user_tokens WHERE user_id = ? AND (? = '' OR purpose = ?)",
			userID, purpose, purpose)
		return err
	})
	return s.internal(err, "delete user tokens")
}

// DeleteExpiredUserTokens deletes tokens expired at now and says how many.
func (s *Store) DeleteExpiredUserTokens(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		res, err := q.ExecContext(ctx, "DELETE FROM user_tokens WHERE expires_at <= ?", sqlcodec.ToNS(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, s.internal(err, "delete expired user tokens")
	}
	return int(n), nil
}
