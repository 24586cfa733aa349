package delivery

import (
	"context"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

// Strict ordering (store.OrderingStrict): a batch whose retries ran out is
// recorded as a failed range as in best effort, so restarts, fencing and
// retention treat it the same way, but the dispatcher then sends nothing
// newer until the failed ranges are gone. It keeps retrying the oldest,
// forever, until a 2xx or until retention deletes its entries (a loss,
// see loss.go). The destination receives the stream in order, at least
// once; during an outage the stream stalls and the status stays inactive.

func (d *dispatcher) strict() bool { return d.dest.Ordering == store.OrderingStrict }

// sendInOrder sends the failed ranges, oldest first, chunk by chunk, until
// none is left. After a failure it waits as the retry policy would before
// its next retry, capped at the policy's maximum; after a 4xx, which means
// the configuration is wrong and will not mend in seconds, at the probe's
// pace instead.
func (d *dispatcher) sendInOrder(ctx context.Context) error {
	for len(d.failed) > 0 {
		if d.failures > 0 {
			if err := d.sleep(ctx, d.strictWait()); err != nil {
				return err
			}
		}
		a, sent, err := d.resendFailed(ctx, 0)
		if err != nil || !sent {
			return err
		}
		if a.ok() {
			d.healthy, d.failures = true, 0
			continue
		}
		if d.failures == 0 || d.healthy {
			rng := d.failed[0]
			d.m.log.Warn("delivery: strict ordering: the oldest failed range was not accepted; newer entries wait until it is",
				"stream", d.stream, "from", rng.From, "to", rng.To, "status", a.status, "message", a.message)
		}
		d.healthy = false
		d.lastFailure = a
		d.failures++
	}
	return nil
}

// strictWait is the pause before the next attempt at the oldest range.
func (d *dispatcher) strictWait() time.Duration {
	a := d.lastFailure
	if a.retryable() {
		return d.m.cfg.Retry.wait(d.failures-1, a.retryAfter)
	}
	w := probeMin
	for i := 1; i < d.failures && w < probeMax; i++ {
		w *= 2
	}
	return min(w, probeMax)
}

// sleep waits d on the injected clock; ctx's error when it ends first.
func (d *dispatcher) sleep(ctx context.Context, wait time.Duration) error {
	t := d.m.clock.NewTimer(wait)
	select {
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	case <-t.C():
		return nil
	}
}
