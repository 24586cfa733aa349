package cluster

import (
	"errors"
	"log/slog"
	"time"

	"github.com/sigtrail/sigtrail/internal/clock"
)

// Defaults of Config. A lease outlives several missed renewals, so one slow
// round trip does not move work; a dead replica's work moves within about
// LeaseTTL.
const (
	DefaultHeartbeatEvery = 2 * time.Second
	DefaultHeartbeatTTL   = 8 * time.Second
	DefaultRebalanceEvery = 2 * time.Second
	DefaultLeaseTTL       = 8 * time.Second
	DefaultStoreTimeout   = 2 * time.Second
)

// Config tunes a Coordinator.
type Config struct {
	// ReplicaID names this replica; it must be unique among the replicas
	// and stable for the life of the process (a new process takes a new
	// id, so it never inherits a dead one's fences).
	ReplicaID string

	HeartbeatEvery time.Duration // DefaultHeartbeatEvery
	HeartbeatTTL   time.Duration // how long a heartbeat keeps the replica live; DefaultHeartbeatTTL
	RebalanceEvery time.Duration // DefaultRebalanceEvery
	LeaseTTL       time.Duration // DefaultLeaseTTL
	// RenewMargin is how long before its leases expire a replica that could
	// not renew them stops delivering on its own: the slack for a
	// dispatcher's stop and for the error of the replicas' clocks, which
	// agree to milliseconds when Clock is a DBClock (as on PostgreSQL) but
	// by no bound of sigtrail's otherwise. LeaseTTL/4 when zero.
	RenewMargin time.Duration
	// StoreTimeout bounds each store call (DefaultStoreTimeout), and never
	// runs past the moment the replica must stop delivering.
	StoreTimeout time.Duration

	Clock  clock.Clock  // clock.Real{} when nil
	Logger *slog.Logger // discards when nil
	// OnEvent, when set, hears of every lease taken, lost or released and
	// of every rebalance, from the Coordinator's goroutine: test signals
	// and metrics. It must not block.
	OnEvent func(Event)
}

func (c *Config) fill() error {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.HeartbeatEvery, DefaultHeartbeatEvery)
	def(&c.HeartbeatTTL, DefaultHeartbeatTTL)
	def(&c.RebalanceEvery, DefaultRebalanceEvery)
	def(&c.LeaseTTL, DefaultLeaseTTL)
	def(&c.RenewMargin, c.LeaseTTL/4)
	def(&c.StoreTimeout, DefaultStoreTimeout)
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.ReplicaID == "":
		return errors.New("cluster: a replica id is required")
	case c.HeartbeatEvery < 0 || c.RebalanceEvery < 0 || c.RenewMargin < 0 || c.StoreTimeout < 0:
		return errors.New("cluster: periods, margin and timeout must be positive")
	case c.HeartbeatTTL <= c.HeartbeatEvery:
		return errors.New("cluster: a heartbeat must outlive the period between heartbeats")
	case c.LeaseTTL-c.RenewMargin <= c.RebalanceEvery:
		// Renewals come every RebalanceEvery; a shorter lease would make
		// the replica stop on its own between two of them.
		return errors.New("cluster: the lease TTL minus the renew margin must exceed the rebalance period")
	}
	return nil
}
