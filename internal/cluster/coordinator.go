package cluster

import (
	"context"
	"errors"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

// Store is what a Coordinator needs of the database: the enabled webhooks
// and the coordination methods (no more, so a test can stand in for it).
type Store interface {
	ListEnabledWebhooks(ctx context.Context) ([]store.Webhook, error)
	Heartbeat(ctx context.Context, replica string, expires time.Time) error
	LiveReplicas(ctx context.Context, now time.Time) ([]string, error)
	RemoveReplica(ctx context.Context, replica string) error
	AcquireLease(ctx context.Context, name, owner string, now, expires time.Time) (store.Lease, error)
	RenewLeases(ctx context.Context, held []store.Lease, expires time.Time) ([]store.Lease, error)
	ReleaseLease(ctx context.Context, l store.Lease) error
}

// Owner does the work the leases guard: the delivery manager.
type Owner interface {
	// Own starts delivering stream, writing with fence. It must not block
	// for long (start the work and return).
	Own(stream store.StreamID, fence store.Fence)
	// Disown stops delivering stream and returns once nothing more will be
	// sent or written for it, so the lease can go to another replica.
	Disown(stream store.StreamID)
}

// removeTimeout bounds the RemoveReplica of a shutdown, which runs after
// Run's context ended.
const removeTimeout = 5 * time.Second

// Coordinator holds this replica's share of the webhook leases and keeps
// its Owner delivering exactly those streams.
type Coordinator struct {
	st    Store
	owner Owner
	cfg   Config

	running atomic.Bool
	kick    chan struct{} // capacity 1

	lostMu sync.Mutex
	lost   map[store.StreamID]struct{}
	lostCh chan struct{} // capacity 1

	// held is written only by Run's goroutine; mu lets Held read it.
	mu   sync.Mutex
	held map[store.StreamID]store.Lease

	nextHeartbeat time.Time
	nextRebalance time.Time
}

// New checks the configuration. Nothing runs until Run.
func New(st Store, owner Owner, cfg Config) (*Coordinator, error) {
	if st == nil || owner == nil {
		return nil, errors.New("cluster: a store and an owner are required")
	}
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	return &Coordinator{
		st: st, owner: owner, cfg: cfg,
		kick:   make(chan struct{}, 1),
		lost:   map[store.StreamID]struct{}{},
		lostCh: make(chan struct{}, 1),
		held:   map[store.StreamID]store.Lease{},
	}, nil
}

// Kick asks for a rebalance now rather than at the next period: a webhook
// was enabled, disabled or deleted. It never blocks.
func (c *Coordinator) Kick() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// LeaseLost tells the Coordinator that a fenced write for stream failed
// with store.ErrLeaseLost: another replica took the lease. The Owner is
// told to Disown stream at once. It never blocks, so an Owner may call it
// from the goroutine that Disown waits for.
func (c *Coordinator) LeaseLost(stream store.StreamID) {
	c.lostMu.Lock()
	c.lost[stream] = struct{}{}
	c.lostMu.Unlock()
	select {
	case c.lostCh <- struct{}{}:
	default:
	}
}

// Held returns the leases this replica holds, by stream.
func (c *Coordinator) Held() map[store.StreamID]store.Lease {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.held)
}

// Run heartbeats and rebalances until ctx ends. Then it disowns every
// stream and removes the replica, freeing its leases so the others take
// them at once. It returns ctx's error.
func (c *Coordinator) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("cluster: Run called twice")
	}
	defer c.running.Store(false)
	defer c.shutdown()
	now := c.cfg.Clock.Now()
	c.nextHeartbeat, c.nextRebalance = now, now
	for {
		stepped := c.step(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		t := c.cfg.Clock.NewTimer(c.nextWake().Sub(c.cfg.Clock.Now()))
		// Announced after the timer exists, so a test that waits for it
		// can advance a fake clock at once without the timer missing it.
		if !stepped.IsZero() {
			c.emit(Event{Kind: Rebalanced, At: stepped, Held: len(c.held)})
		}
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		case <-c.kick:
			c.nextRebalance = c.cfg.Clock.Now()
		case <-c.lostCh:
			c.dropLost()
		}
		t.Stop()
	}
}

// nextWake is the earliest of the next heartbeat, the next rebalance and
// the moment the held leases must be given up unless renewed.
func (c *Coordinator) nextWake() time.Time {
	next := c.nextHeartbeat
	if c.nextRebalance.Before(next) {
		next = c.nextRebalance
	}
	if d, ok := c.deadline(); ok && d.Before(next) {
		next = d
	}
	return next
}

// deadline is when the first held lease is too close to expiring to keep
// delivering: its expiry less the margin.
func (c *Coordinator) deadline() (time.Time, bool) {
	var first time.Time
	for _, l := range c.held {
		if first.IsZero() || l.Expires.Before(first) {
			first = l.Expires
		}
	}
	return first.Add(-c.cfg.RenewMargin), !first.IsZero()
}

// dropLost disowns the streams whose lease the Owner reported lost.
func (c *Coordinator) dropLost() {
	c.lostMu.Lock()
	lost := c.lost
	c.lost = map[store.StreamID]struct{}{}
	c.lostMu.Unlock()
	now := c.cfg.Clock.Now()
	for s := range lost {
		if l, ok := c.held[s]; ok {
			c.cfg.Logger.Warn("cluster: another replica took the lease; stopping the stream", "stream", s, "fence", l.Epoch)
			c.drop(s)
			c.emit(Event{Kind: LeaseLost, At: now, Stream: s, Fence: l.Epoch})
		}
	}
}

// shutdown disowns everything, then frees the replica's leases, on a
// context of its own since Run's has ended.
func (c *Coordinator) shutdown() {
	for s := range c.held {
		c.drop(s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), removeTimeout)
	defer cancel()
	if err := c.st.RemoveReplica(ctx, c.cfg.ReplicaID); err != nil {
		c.cfg.Logger.Warn("cluster: removing the replica failed; its leases expire on their own", "err", err)
	}
}

// drop disowns stream and forgets its lease.
func (c *Coordinator) drop(s store.StreamID) {
	c.owner.Disown(s)
	c.mu.Lock()
	delete(c.held, s)
	c.mu.Unlock()
}

func (c *Coordinator) keep(l store.Lease, s store.StreamID) {
	c.mu.Lock()
	c.held[s] = l
	c.mu.Unlock()
}

func (c *Coordinator) emit(e Event) {
	if c.cfg.OnEvent != nil {
		e.Replica = c.cfg.ReplicaID
		c.cfg.OnEvent(e)
	}
}
