package postgres

import (
	"context"
	"time"
)

// DatabaseNow reads the database server's clock: the one time every
// replica shares (cluster.DBClock measures its own clock against it).
// clock_timestamp, not now(): now() is the start of the transaction.
func (s *Store) DatabaseNow(ctx context.Context) (time.Time, error) {
	var t time.Time
	err := s.read(ctx, "database clock", func(ctx context.Context, q querier) error {
		return q.QueryRow(ctx, "SELECT clock_timestamp()").Scan(&t)
	})
	return t, err
}
