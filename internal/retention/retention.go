// Package retention deletes audit entries once they are older than the
// retention period, continuously and in small batches so that deletion
// never holds the event log's write lock for long.
package retention

import (
	"context"
	"log/slog"
	"time"

	"github.com/sigtrail/sigtrail/internal/clock"
)

// DefaultPeriod is how long entries are kept: Kong keeps seven days.
const DefaultPeriod = 7 * 24 * time.Hour

// Deleter is the part of the event log the loop needs.
type Deleter interface {
	DeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int, error)
}

// Config tunes the loop. Zero values take the defaults.
type Config struct {
	Period    time.Duration // entries older than this are deleted; default 7 days
	BatchSize int           // entries deleted per transaction; default 1000
	Interval  time.Duration // pause once nothing is left to delete; default 1 minute
}

func (c Config) withDefaults() Config {
	if c.Period <= 0 {
		c.Period = DefaultPeriod
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 1000
	}
	if c.Interval <= 0 {
		c.Interval = time.Minute
	}
	return c
}

// Loop is the retention loop.
type Loop struct {
	cfg   Config
	log   Deleter
	clock clock.Clock
	lg    *slog.Logger
}

// New returns a loop over log; call Run to start it.
func New(cfg Config, log Deleter, clk clock.Clock, logger *slog.Logger) *Loop {
	if clk == nil {
		clk = clock.Real{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Loop{cfg: cfg.withDefaults(), log: log, clock: clk, lg: logger}
}

// Period is the retention period in force.
func (l *Loop) Period() time.Duration { return l.cfg.Period }

// Sweep deletes every entry older than the retention period, batch by
// batch, and says how many it deleted.
func (l *Loop) Sweep(ctx context.Context) (int, error) {
	cutoff := l.clock.Now().Add(-l.cfg.Period)
	total := 0
	for {
		n, err := l.log.DeleteBefore(ctx, cutoff, l.cfg.BatchSize)
		total += n
		if err != nil {
			return total, err
		}
		// A short batch means nothing older is left.
		if n < l.cfg.BatchSize {
			return total, nil
		}
		if ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}

// Run sweeps, pauses for the interval, and sweeps again until ctx ends. A
// failed sweep is logged and tried again after the interval.
func (l *Loop) Run(ctx context.Context) error {
	for {
		n, err := l.Sweep(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			l.lg.Error("retention: deleting expired entries", "err", err, "deleted", n)
		case n > 0:
			l.lg.Info("retention: deleted expired entries", "deleted", n)
		}
		t := l.clock.NewTimer(l.cfg.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C():
		}
	}
}
