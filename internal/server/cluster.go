package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/cluster"
	"github.com/sigtrail/sigtrail/internal/delivery"
	"github.com/sigtrail/sigtrail/internal/replay"
	"github.com/sigtrail/sigtrail/internal/signing"
	"github.com/sigtrail/sigtrail/internal/store"
)

// newReplicaID names this process among the replicas sharing a database:
// host name and process id, for the operator reading the leases table, and
// a random part, so a restarted process is a new replica whose leases are
// not mistaken for its predecessor's.
func newReplicaID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// sweepEvery is how often a clustered replica wakes every dispatcher it
// runs to read its stream again: LISTEN/NOTIFY is reliable while its
// connection lives, and a lost connection calls Resync, so this only covers
// what neither catches.
const sweepEvery = 10 * time.Second

// changes routes what other replicas changed (the database's change feed)
// to this replica's parts. The feed's goroutine calls it; whatever needs
// the store runs on a goroutine of its own so the feed keeps up.
type changes struct {
	ctx     context.Context
	dm      *delivery.Manager
	coord   *cluster.Coordinator
	keys    *signing.Keyring
	replays *replay.Runner
	log     *slog.Logger
	// reloadKeys coalesces key reloads: a burst of changes is one reload.
	reloadKeys chan struct{}
}

var _ store.ChangeHandler = (*changes)(nil)

func newChanges(ctx context.Context, dm *delivery.Manager, coord *cluster.Coordinator, keys *signing.Keyring, replays *replay.Runner, log *slog.Logger) *changes {
	return &changes{ctx: ctx, dm: dm, coord: coord, keys: keys, replays: replays, log: log, reloadKeys: make(chan struct{}, 1)}
}

func (c *changes) StreamGrew(stream store.StreamID, seq int64) { c.dm.StreamGrew(stream, seq) }

func (c *changes) WebhookChanged(stream store.StreamID) {
	c.dm.WebhookChanged(stream)
	c.coord.Kick() // enabled or disabled: the set of leases to hold changed
}

func (c *changes) DestinationChanged(orgID, destinationID string) {
	// At once, in the feed's order: the dispatchers sending to it must not
	// be woken for an entry appended after the change before they reload.
	c.dm.ReloadDestination(orgID, destinationID)
	go func() {
		ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
		defer cancel()
		if err := c.dm.DestinationChanged(ctx, orgID, destinationID); err != nil && c.ctx.Err() == nil {
			// Not knowing which webhooks use it, reload them all rather
			// than send on with a stale endpoint or secret.
			c.log.Warn("cluster: finding the webhooks of a changed destination failed; reloading every webhook", "destination", destinationID, "err", err)
			c.dm.ReloadAll()
		}
	}()
}

func (c *changes) SigningKeysChanged() {
	select {
	case c.reloadKeys <- struct{}{}:
	default:
	}
}

func (c *changes) ReplayJobChanged(stream store.StreamID) { c.replays.JobChanged(stream) }

// MembershipChanged: a replica joined or left, or freed a lease meant for
// another; rebalancing now keeps a moving webhook's gap to milliseconds
// instead of a rebalance period.
func (c *changes) MembershipChanged() { c.coord.Kick() }

func (c *changes) Resync() {
	c.log.Info("cluster: change feed reconnected; reloading what may have changed")
	c.dm.ReloadAll()
	c.dm.PokeAll()
	c.coord.Kick()
	c.SigningKeysChanged()
}

// run reloads the signing keys when asked and sweeps the dispatchers every
// sweepEvery, until ctx ends.
func (c *changes) run(ctx context.Context, clk clock.Clock) error {
	t := clk.NewTimer(sweepEvery)
	defer func() { t.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C():
			c.dm.PokeAll()
			t = clk.NewTimer(sweepEvery)
		case <-c.reloadKeys:
			rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			if err := c.keys.Reload(rctx); err != nil && ctx.Err() == nil {
				// Maintain reloads every 30 s anyway, well before a new
				// key signs (signing.ActivationDelay).
				c.log.Warn("cluster: reloading the signing keys failed", "err", err)
			}
			cancel()
		}
	}
}
