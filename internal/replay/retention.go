package replay

import (
	"context"
	"log/slog"
	"time"

	"github.com/sigtrail/sigtrail/internal/clock"
)

// DefaultRetention is how long entries are kept: Kong keeps seven days.
const DefaultRetention = 7 * 24 * time.Hour

// RetentionStore is the part of the store the retention loop needs: the
// event log's DeleteBefore, and the periodic claim that lets one replica of
// many sweep per interval (store.Coordination.ClaimPeriodic).
type RetentionStore interface {
	DeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int, error)
	ClaimPeriodic(ctx context.Context, name string, now time.Time, every time.Duration) (bool, error)
}

// retentionTask names the retention sweep's periodic claim.
const retentionTask = "retention"

// RetentionConfig tunes the retention loop. Zero values take the defaults.
type RetentionConfig struct {
	Period    time.Duration // entries older than this are deleted; default 7 days
	BatchSize int           // entries deleted per transaction; default 1000
	// Interval is the pause between sweeps, and the period of which one
	// sweep runs cluster-wide; default 1 minute.
	Interval time.Duration
}

func (c RetentionConfig) withDefaults() RetentionConfig {
	if c.Period <= 0 {
		c.Period = DefaultRetention
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 1000
	}
	if c.Interval <= 0 {
		c.Interval = time.Minute
	}
	return c
}

// Retention deletes entries older than the retention period, in small
// batches so that it never holds the event log's write lock for long.
type Retention struct {
	cfg   RetentionConfig
	log   RetentionStore
	clock clock.Clock
	lg    *slog.Logger
}

// NewRetention returns a retention loop over log; call Run to start it.
func NewRetention(cfg RetentionConfig, log RetentionStore, clk clock.Clock, logger *slog.Logger) *Retention {
	if clk == nil {
		clk = clock.Real{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Retention{cfg: cfg.withDefaults(), log: log, clock: clk, lg: logger}
}

// RunRetention runs a retention loop with the default batch size and
// interval until ctx ends.
func RunRetention(ctx context.Context, log RetentionStore, clk clock.Clock, period time.Duration, logger *slog.Logger) error {
	return NewRetention(RetentionConfig{Period: period}, log, clk, logger).Run(ctx)
}

// Sweep deletes every entry older than the retention period, batch by
// batch, and says how many it deleted.
func (l *Retention) Sweep(ctx context.Context) (int, error) {
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
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// Run sweeps, pauses for the interval, and sweeps again until ctx ends.
// Every replica runs the loop, but each interval only the one whose claim
// succeeds sweeps: the others' deletes would contend for the same rows and
// find nothing left. A failed sweep or claim is logged and tried again
// after the interval.
func (l *Retention) Run(ctx context.Context) error {
	for {
		l.tick(ctx)
		if ctx.Err() != nil {
			return nil
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

// tick sweeps when this replica's claim on the interval succeeds.
func (l *Retention) tick(ctx context.Context) {
	mine, err := l.log.ClaimPeriodic(ctx, retentionTask, l.clock.Now(), l.cfg.Interval)
	if err != nil || !mine {
		if err != nil && ctx.Err() == nil {
			l.lg.Error("retention: claiming the sweep", "err", err)
		}
		return
	}
	n, err := l.Sweep(ctx)
	switch {
	case ctx.Err() != nil:
	case err != nil:
		l.lg.Error("retention: deleting expired entries", "err", err, "deleted", n)
	case n > 0:
		l.lg.Info("retention: deleted expired entries", "deleted", n)
	}
}
