package console

import (
	"context"
	"log/slog"
	"time"

	"github.com/sigtrail/sigtrail/internal/clock"
)

// SessionSweeper is what SweepSessions deletes through.
type SessionSweeper interface {
	DeleteExpiredUserSessions(ctx context.Context, now time.Time) (int, error)
	DeleteExpiredUserTokens(ctx context.Context, now time.Time) (int, error)
}

// SweepSessions deletes expired console sessions now and then every
// interval, until ctx ends. An expired session is refused anyway (and
// recorded as TOKEN_EXPIRED when presented); sweeping keeps the table
// small. Concurrent sweepers on one database are harmless.
func SweepSessions(ctx context.Context, st SessionSweeper, clk clock.Clock, every time.Duration, log *slog.Logger) {
	for {
		n, err := st.DeleteExpiredUserSessions(ctx, clk.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("sweep expired console sessions", "err", err)
		case n > 0:
			log.Debug("swept expired console sessions", "count", n)
		}
		// Expired set-password links, which are refused anyway.
		if _, err := st.DeleteExpiredUserTokens(ctx, clk.Now()); err != nil && ctx.Err() == nil {
			log.Error("sweep expired console user tokens", "err", err)
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
