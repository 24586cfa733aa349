package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/cluster"
)

// A replica whose own clock is an hour off still tells the database's time
// through cluster.DBClock, so its leases and heartbeats agree with the
// other replicas'.
func TestDatabaseClockCorrectsSkew(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx := context.Background()
	for _, skew := range []time.Duration{-time.Hour, 0, 90 * time.Second} {
		// A fake clock stands still during the round trips: its reading
		// is this host's clock, skewed, at the moment of the sample.
		local := clock.NewFake(time.Now().Add(skew))
		c := cluster.NewDBClock(s, local, nil, nil)
		if err := c.Sync(ctx); err != nil {
			t.Fatalf("skew %v: Sync: %v", skew, err)
		}
		db, err := s.DatabaseNow(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// The test's PostgreSQL runs on this host: its clock is ours.
		if d := c.Now().Sub(db); d < -2*time.Second || d > 2*time.Second {
			t.Errorf("skew %v: DBClock says %v, the database %v (off by %v)", skew, c.Now(), db, d)
		}
		if off := c.Offset() + skew; off < -2*time.Second || off > 2*time.Second {
			t.Errorf("skew %v: offset %v does not undo it", skew, c.Offset())
		}
	}
}
