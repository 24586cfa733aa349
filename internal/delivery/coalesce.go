package delivery

import "time"

// Adaptive coalescing (issue 14). A webhook request costs the server about
// as much as several entries (render, gzip, POST, cursor move), so
// trickling entries should share one; but waiting adds latency, and at
// rates where batches fill on their own it buys nothing. So the wait a
// batch's first entry makes for more (dispatcher.coalesce) follows the
// batches' size: it doubles while they hold fewer than coalesceTarget
// entries and halves once they hold more, never past Config.CoalesceWait.
// At one event per request it stays at the bound up to about
// coalesceTarget/bound events per second (320/s at 25 ms); at 1,000
// events/s in requests of 10 it falls to none, since each append already
// brings 10.
const (
	coalesceTarget = 8
	// coalesceStep is the shortest wait: below it the wait is none, and a
	// wait grows from none to it.
	coalesceStep = time.Millisecond
)

// coalescer holds the current wait; only the dispatcher goroutine uses it.
type coalescer struct {
	wait, max time.Duration
}

// newCoalescer starts at the bound: a stream's first entries after a
// quiet spell leave at once anyway (no batch was sent just before), and a
// stream that turns out busy shortens the wait within a few batches.
func newCoalescer(bound time.Duration) coalescer {
	return coalescer{wait: max(bound, 0), max: bound}
}

// sent adapts the wait to a batch of n entries that was not full.
func (c *coalescer) sent(n int) {
	switch {
	case c.max <= 0:
		c.wait = 0
	case n < coalesceTarget:
		c.wait = min(max(2*c.wait, coalesceStep), c.max)
	default:
		if c.wait /= 2; c.wait < coalesceStep {
			c.wait = 0
		}
	}
}
