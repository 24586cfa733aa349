package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// TakeRateToken runs store.GCRA on key's bucket under its row lock: the
// first statement creates the bucket if need be and locks it either way,
// so concurrent requests on any replica take turns.
func (s *Store) TakeRateToken(ctx context.Context, key string, now time.Time, l store.RateLimit) (bool, time.Duration, error) {
	if l.Every <= 0 || l.Burst <= 0 {
		return false, 0, apperr.New(apperr.Invalid, "a rate limit needs a positive interval and burst")
	}
	var ok bool
	var wait time.Duration
	err := s.write(ctx, "take rate token", func(ctx context.Context, tx pgx.Tx) error {
		var tatNS int64
		if err := tx.QueryRow(ctx, `INSERT INTO rate_buckets AS b (key, tat) VALUES ($1, 0)
			ON CONFLICT (key) DO UPDATE SET tat = b.tat RETURNING tat`, key).Scan(&tatNS); err != nil {
			return err
		}
		var next time.Time
		next, ok, wait = store.GCRA(sqlcodec.FromNS(tatNS), now, l)
		if !ok {
			return nil
		}
		_, err := tx.Exec(ctx, "UPDATE rate_buckets SET tat = $2 WHERE key = $1", key, sqlcodec.ToNS(next))
		return err
	})
	if err != nil {
		return false, 0, err
	}
	return ok, wait, nil
}

// DeleteIdleRateBuckets forgets buckets whose theoretical arrival time has
// passed: they are full again.
func (s *Store) DeleteIdleRateBuckets(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, "delete idle rate buckets", func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM rate_buckets WHERE tat <= $1", sqlcodec.ToNS(now))
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}
