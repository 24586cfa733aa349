package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/sigtrail/sigtrail/internal/clock"
)

// coordinationRetention is how long after its heartbeat or lease expired a
// replica's row or a gone stream's lease is kept. Nothing reads them after
// they expire (a restarted process is a new replica, and a lease expired
// is as good as free), so the bound is only a margin: a day is over ten
// thousand heartbeat and lease TTLs (cluster.DefaultHeartbeatTTL,
// cluster.DefaultLeaseTTL), far beyond any pause a replica could wake from
// still writing with an old fence, and it leaves a day of crashed replicas
// for an operator to look at.
const coordinationRetention = 24 * time.Hour

// pruneEvery is how often each process prunes. Pruning is cheap and
// concurrent prunes are safe, so every process does it, on SQLite too
// (replay jobs take leases there).
const pruneEvery = time.Hour

// coordinationPruner is what pruneCoordination deletes through.
type coordinationPruner interface {
	PruneCoordination(ctx context.Context, before time.Time) (replicas, leases int, err error)
}

// pruneCoordination deletes the rows of long-dead replicas and the expired
// leases of deleted webhooks and replay jobs, now and then every
// pruneEvery, until ctx ends. It returns ctx's error.
func pruneCoordination(ctx context.Context, st coordinationPruner, clk clock.Clock, log *slog.Logger) error {
	for {
		replicas, leases, err := st.PruneCoordination(ctx, clk.Now().Add(-coordinationRetention))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("cluster: pruning dead replicas and orphaned leases failed", "err", err)
		case replicas+leases > 0:
			log.Info("cluster: pruned dead replicas and orphaned leases", "replicas", replicas, "leases", leases)
		}
		t := clk.NewTimer(pruneEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		}
	}
}
