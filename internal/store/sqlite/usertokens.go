package sqlite

import (
	"context"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// CreateUserToken stores a token; an unknown user is NotFound, a reused
// hash a Conflict.
func (s *Store) CreateUserToken(ctx context.Context, t store.UserToken) error {
	return s.createToken(ctx, sqlcodec.UserTokens, sqlcodec.UserTokenRow(t))
}

// GetUserToken finds a token by hash without using it up.
func (s *Store) GetUserToken(ctx context.Context, hash []byte) (store.UserToken, error) {
	r, err := s.getToken(ctx, sqlcodec.UserTokens, hash)
	return r.UserToken(), err
}

// ConsumeUserToken deletes a token and returns it, in one statement.
func (s *Store) ConsumeUserToken(ctx context.Context, hash []byte) (store.UserToken, error) {
	r, err := s.consumeToken(ctx, sqlcodec.UserTokens, hash)
	return r.UserToken(), err
}

// DeleteUserTokens deletes a user's tokens of one purpose (all when
// purpose is empty).
func (s *Store) DeleteUserTokens(ctx context.Context, userID, purpose string) error {
	return s.deleteTokens(ctx, sqlcodec.UserTokens, userID, purpose)
}

// DeleteExpiredUserTokens deletes tokens expired at now and says how many.
func (s *Store) DeleteExpiredUserTokens(ctx context.Context, now time.Time) (int, error) {
	return s.deleteExpiredTokens(ctx, sqlcodec.UserTokens, now)
}
