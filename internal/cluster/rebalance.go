package cluster

import (
	"context"
	"slices"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

// minCallTimeout keeps a store call that starts just before the deadline
// from failing at once (the deadline is checked again after it).
const minCallTimeout = 100 * time.Millisecond

// step does what is due at the Coordinator's clock: give up leases it can
// no longer vouch for, heartbeat, rebalance. It returns when it acted (zero
// when nothing was due).
func (c *Coordinator) step(ctx context.Context) time.Time {
	now := c.cfg.Clock.Now()
	did := c.expire(now)
	if !now.Before(c.nextHeartbeat) {
		c.heartbeat(ctx, now)
		c.nextHeartbeat = now.Add(c.cfg.HeartbeatEvery)
		did = true
	}
	if !now.Before(c.nextRebalance) {
		c.rebalance(ctx, now)
		c.nextRebalance = now.Add(c.cfg.RebalanceEvery)
		did = true
	}
	// The calls above may have taken long against a failing database.
	c.expire(c.cfg.Clock.Now())
	if !did {
		return time.Time{}
	}
	return now
}

// expire disowns every lease past its deadline: renewals failed for longer
// than the TTL less the margin. The lease may still be ours in the
// database, but another replica may take it soon, and this one must have
// stopped sending by then. It reports whether it dropped any.
func (c *Coordinator) expire(now time.Time) bool {
	dropped := false
	for s, l := range c.held {
		if now.Before(l.Expires.Add(-c.cfg.RenewMargin)) {
			continue
		}
		if !dropped {
			c.cfg.Logger.Error("cluster: could not renew the leases in time; stopping delivery until the database answers",
				"expires", l.Expires)
		}
		dropped = true
		c.drop(s)
		c.emit(Event{Kind: LeaseExpired, At: now, Stream: s, Fence: l.Epoch})
	}
	return dropped
}

// callCtx bounds one store call by StoreTimeout, and by the deadline of the
// held leases so a hung call cannot keep this replica delivering past it.
func (c *Coordinator) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	d := c.cfg.StoreTimeout
	if dl, ok := c.deadline(); ok {
		d = min(d, max(dl.Sub(c.cfg.Clock.Now()), minCallTimeout))
	}
	return context.WithTimeout(ctx, d)
}

func (c *Coordinator) heartbeat(ctx context.Context, now time.Time) {
	cctx, cancel := c.callCtx(ctx)
	defer cancel()
	if err := c.st.Heartbeat(cctx, c.cfg.ReplicaID, now.Add(c.cfg.HeartbeatTTL)); err != nil && ctx.Err() == nil {
		c.cfg.Logger.Warn("cluster: heartbeat failed", "err", err)
	}
}

// rebalance renews the held leases, hands over those this replica should
// no longer hold and takes those it should. A store error ends the round:
// the next one tries again, and expire stops delivery if that lasts.
func (c *Coordinator) rebalance(ctx context.Context, now time.Time) {
	if !c.renew(ctx, now) {
		return
	}
	want, ok := c.wanted(ctx, now)
	if !ok {
		return
	}
	for s, l := range c.held {
		if _, keep := want[s]; !keep {
			// Like acquisitions below: handing over hundreds when a
			// replica joins must not delay the heartbeat and renewals
			// past their TTLs; the rest go next round.
			if c.cfg.Clock.Now().Sub(now) > c.cfg.RebalanceEvery/2 {
				return
			}
			c.release(ctx, s, l, now)
		}
	}
	streams := make([]store.StreamID, 0, len(want))
	for s := range want {
		if _, ok := c.held[s]; !ok {
			streams = append(streams, s)
		}
	}
	slices.Sort(streams)
	for _, s := range streams {
		// A cold start may want thousands of leases, one round trip each:
		// leave the rest to the next rounds rather than delay the
		// heartbeat and the renewals past their TTLs.
		if c.cfg.Clock.Now().Sub(now) > c.cfg.RebalanceEvery/2 {
			return
		}
		if !c.acquire(ctx, s) {
			return
		}
	}
}

// renew extends every held lease in one round trip and disowns those that
// another replica took meanwhile. It reports whether the store answered.
func (c *Coordinator) renew(ctx context.Context, now time.Time) bool {
	if len(c.held) == 0 {
		return true
	}
	held := make([]store.Lease, 0, len(c.held))
	byName := make(map[string]store.StreamID, len(c.held))
	for s, l := range c.held {
		held = append(held, l)
		byName[l.Name] = s
	}
	cctx, cancel := c.callCtx(ctx)
	defer cancel()
	renewed, err := c.st.RenewLeases(cctx, held, now.Add(c.cfg.LeaseTTL))
	if err != nil {
		if ctx.Err() == nil {
			c.cfg.Logger.Warn("cluster: renewing the leases failed", "err", err)
		}
		return false
	}
	for _, l := range renewed {
		c.keep(l, byName[l.Name])
		delete(byName, l.Name)
	}
	for _, s := range byName {
		l := c.held[s]
		c.cfg.Logger.Warn("cluster: another replica took the lease; stopping the stream", "stream", s, "fence", l.Epoch)
		c.drop(s)
		c.emit(Event{Kind: LeaseLost, At: now, Stream: s, Fence: l.Epoch})
	}
	return true
}

// wanted lists the enabled webhooks that rendezvous hashing over the live
// replicas gives this one.
func (c *Coordinator) wanted(ctx context.Context, now time.Time) (map[store.StreamID]struct{}, bool) {
	cctx, cancel := c.callCtx(ctx)
	defer cancel()
	live, err := c.st.LiveReplicas(cctx, now)
	if err != nil {
		if ctx.Err() == nil {
			c.cfg.Logger.Warn("cluster: listing the live replicas failed", "err", err)
		}
		return nil, false
	}
	// This replica counts itself even when its heartbeat has not landed
	// yet: it is running this code, so it is alive.
	if !slices.Contains(live, c.cfg.ReplicaID) {
		live = append(live, c.cfg.ReplicaID)
	}
	hooks, err := c.st.ListEnabledWebhooks(cctx)
	if err != nil {
		if ctx.Err() == nil {
			c.cfg.Logger.Warn("cluster: listing the enabled webhooks failed", "err", err)
		}
		return nil, false
	}
	want := map[store.StreamID]struct{}{}
	for _, w := range hooks {
		if Preferred(w.Stream, live) == c.cfg.ReplicaID {
			want[w.Stream] = struct{}{}
		}
	}
	return want, true
}

// release stops the Owner first and frees the lease after, so nothing is
// sent twice by two replicas at once, and the preferred replica (or
// nobody, when the webhook is gone) takes it at its next round instead of
// after the lease expires.
func (c *Coordinator) release(ctx context.Context, s store.StreamID, l store.Lease, now time.Time) {
	c.drop(s)
	cctx, cancel := c.callCtx(ctx)
	defer cancel()
	if err := c.st.ReleaseLease(cctx, l); err != nil && ctx.Err() == nil {
		c.cfg.Logger.Warn("cluster: releasing a lease failed; it expires on its own", "stream", s, "err", err)
	}
	c.emit(Event{Kind: LeaseReleased, At: now, Stream: s, Fence: l.Epoch})
}

// acquire takes the lease of s and tells the Owner. A lease another
// replica still holds is no error: it hands it over at its next round, or
// its lease expires. It reports false on a store error, which ends the
// round.
func (c *Coordinator) acquire(ctx context.Context, s store.StreamID) bool {
	cctx, cancel := c.callCtx(ctx)
	defer cancel()
	// A fresh time, so a lease taken late in a long round gets its whole TTL.
	now := c.cfg.Clock.Now()
	l, err := c.st.AcquireLease(cctx, store.WebhookLease(s), c.cfg.ReplicaID, now, now.Add(c.cfg.LeaseTTL))
	switch {
	case apperr.Is(err, apperr.Conflict):
		return true
	case err != nil:
		if ctx.Err() == nil {
			c.cfg.Logger.Warn("cluster: acquiring a lease failed", "stream", s, "err", err)
		}
		return false
	}
	c.keep(l, s)
	c.owner.Own(s, l.Epoch)
	c.emit(Event{Kind: LeaseTaken, At: now, Stream: s, Fence: l.Epoch})
	return true
}
