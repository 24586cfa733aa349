package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// TakeRateToken runs store.GCRA on key's bucket inside one write
// transaction.
func (s *Store) TakeRateToken(ctx context.Context, key string, now time.Time, l store.RateLimit) (bool, time.Duration, error) {
	if l.Every <= 0 || l.Burst <= 0 {
		return false, 0, apperr.New(apperr.Invalid, "a rate limit needs a positive interval and burst")
	}
	var ok bool
	var wait time.Duration
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		var tatNS int64
		err := q.QueryRowContext(ctx, "SELECT tat FROM rate_buckets WHERE key = ?", key).Scan(&tatNS)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var next time.Time
		next, ok, wait = store.GCRA(sqlcodec.FromNS(tatNS), now, l)
		if !ok {
			return nil
		}
		_, err = q.ExecContext(ctx, `INSERT INTO rate_buckets (key, tat) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET tat = excluded.tat`, key, sqlcodec.ToNS(next))
		return err
	})
	if err != nil {
		return false, 0, s.internal(err, "take rate token")
	}
	return ok, wait, nil
}

// DeleteIdleRateBuckets forgets buckets whose theoretical arrival time has
// passed: they are full again.
func (s *Store) DeleteIdleRateBuckets(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		res, err := q.ExecContext(ctx, "DELETE FROM rate_buckets WHERE tat <= ?", sqlcodec.ToNS(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		// Not n: a caller whose context ended gets its error while the
		// writer may still be running the job, and setting n.
		return 0, s.internal(err, "delete idle rate buckets")
	}
	return int(n), nil
}
