package cluster

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/sigtrail/sigtrail/internal/clock"
)

// TimeSource tells the time every replica shares: the database server's.
type TimeSource interface {
	DatabaseNow(ctx context.Context) (time.Time, error)
}

// Defaults of a DBClock.
const (
	DefaultClockSyncEvery = time.Minute
	// clockSamples is how many round trips one Sync makes; the one that
	// took least bounds the error best.
	clockSamples = 5
	// skewWarn is the offset past which the operator hears that this
	// host's clock is off (sigtrail works on, on the database's time).
	skewWarn = 500 * time.Millisecond
)

// DBClock is a clock.Clock that tells the database's time, read through
// the local clock plus an offset measured against the database. Leases,
// heartbeats and periodic claims compare instants written by different
// replicas; on each replica's own clock, a replica whose clock runs ahead
// takes a lease before its holder stops delivering (the renew margin is
// only seconds). On the database's clock, replicas disagree by the error
// of the offset estimate: half a round trip, a few milliseconds.
//
// Timers and durations come from the local clock, unchanged.
type DBClock struct {
	base     clock.Clock
	src      TimeSource
	log      *slog.Logger
	offset   atomic.Int64 // nanoseconds to add to base.Now()
	onOffset func(time.Duration)
}

// NewDBClock reads src's time through base. onOffset, when set, hears of
// every new offset (a metric). Call Sync before the first Now that matters.
func NewDBClock(src TimeSource, base clock.Clock, log *slog.Logger, onOffset func(time.Duration)) *DBClock {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &DBClock{base: base, src: src, log: log, onOffset: onOffset}
}

// Now is the database's time as best known.
func (c *DBClock) Now() time.Time {
	return c.base.Now().Add(time.Duration(c.offset.Load()))
}

// NewTimer is the local clock's: a duration is the same on every clock.
func (c *DBClock) NewTimer(d time.Duration) clock.Timer { return c.base.NewTimer(d) }

// Offset is how far the database's clock is ahead of the local one.
func (c *DBClock) Offset() time.Duration { return time.Duration(c.offset.Load()) }

// Sync measures the offset: several round trips, keeping the estimate of
// the shortest (the database read its clock somewhere inside the round
// trip; assuming the middle, the error is at most half of it). It fails
// only when no round trip succeeded, and then keeps the old offset.
func (c *DBClock) Sync(ctx context.Context) error {
	var (
		best    time.Duration
		bestRTT time.Duration = -1
		lastErr error
	)
	for range clockSamples {
		sent := c.base.Now()
		db, err := c.src.DatabaseNow(ctx)
		got := c.base.Now()
		if err != nil {
			lastErr = err
			if ctx.Err() != nil {
				break
			}
			continue
		}
		rtt := got.Sub(sent)
		if bestRTT < 0 || rtt < bestRTT {
			bestRTT = rtt
			best = db.Sub(sent.Add(rtt / 2))
		}
	}
	if bestRTT < 0 {
		if lastErr == nil {
			lastErr = errors.New("no sample")
		}
		return lastErr
	}
	old := time.Duration(c.offset.Swap(int64(best)))
	if abs(best) > skewWarn && abs(best-old) > skewWarn/2 {
		c.log.Warn("cluster: this host's clock differs from the database's; leases and heartbeats use the database's time",
			"offset", best.Round(time.Millisecond), "error_bound", (bestRTT / 2).Round(time.Microsecond))
	}
	if c.onOffset != nil {
		c.onOffset(best)
	}
	return nil
}

// Run re-measures the offset every period until ctx ends, so a clock
// stepped or drifting on either side is followed. It returns ctx's error.
func (c *DBClock) Run(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		every = DefaultClockSyncEvery
	}
	for {
		t := c.base.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		}
		sctx, cancel := context.WithTimeout(ctx, DefaultStoreTimeout)
		if err := c.Sync(sctx); err != nil && ctx.Err() == nil {
			c.log.Warn("cluster: reading the database's clock failed; keeping the last offset", "err", err, "offset", c.Offset())
		}
		cancel()
	}
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
