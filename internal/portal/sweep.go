package portal

import (
	"context"
	"log/slog"
	"time"

	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
)

// SweepTokens deletes expired developer tokens (sessions, refresh and
// emailed tokens) now and then every interval, until ctx ends. Expired
// tokens are refused anyway; sweeping only keeps the table small. The
// server runs one per process; concurrent sweepers on one database are
// harmless.
func SweepTokens(ctx context.Context, st store.Developers, clk clock.Clock, every time.Duration, log *slog.Logger) {
	for {
		n, err := st.DeleteExpiredDeveloperTokens(ctx, clk.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("sweep expired developer tokens", "err", err)
		case n > 0:
			log.Debug("swept expired developer tokens", "count", n)
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
