package portal

import (
	"context"
	"log/slog"
	"time"

	"github.com/sigtrail/sigtrail/internal/clock"
)

// Sweeper is what SweepTokens deletes through.
type Sweeper interface {
	DeleteExpiredDeveloperTokens(ctx context.Context, now time.Time) (int, error)
	DeleteIdleRateBuckets(ctx context.Context, now time.Time) (int, error)
}

// SweepTokens deletes expired developer tokens (sessions, refresh and
// emailed tokens) and the rate-limit buckets that are full again, now and
// then every interval, until ctx ends. Expired tokens are refused anyway
// and a full bucket behaves as a missing one; sweeping only keeps the
// tables small. The server runs one per process; concurrent sweepers on
// one database are harmless.
func SweepTokens(ctx context.Context, st Sweeper, clk clock.Clock, every time.Duration, log *slog.Logger) {
	for {
		now := clk.Now()
		n, err := st.DeleteExpiredDeveloperTokens(ctx, now)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("sweep expired developer tokens", "err", err)
		case n > 0:
			log.Debug("swept expired developer tokens", "count", n)
		}
		n, err = st.DeleteIdleRateBuckets(ctx, now)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("sweep idle rate-limit buckets", "err", err)
		case n > 0:
			log.Debug("swept idle rate-limit buckets", "count", n)
		}
		t := clk.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
	}
}
