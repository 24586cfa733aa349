package delivery

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/cluster"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlite"
)

// mortal is a replica's store handle whose RemoveReplica does nothing once
// the replica is killed: a crashed process says no goodbye.
type mortal struct {
	*sqlite.Store
	killed atomic.Bool
}

func (s *mortal) RemoveReplica(ctx context.Context, id string) error {
	if s.killed.Load() {
		return nil
	}
	return s.Store.RemoveReplica(ctx, id)
}

// node is one replica: a clustered Manager and its Coordinator on their
// own handle of the shared database file.
type node struct {
	id     string
	st     *mortal
	m      *Manager
	c      *cluster.Coordinator
	events chan cluster.Event
	cancel context.CancelFunc
	done   chan struct{}
}

// startNode runs a replica until the test ends (or stop or kill) and
// waits for its coordinator's first round.
func startNode(t *testing.T, path, id string, clk *clock.Fake) *node {
	t.Helper()
	n := &node{id: id, st: &mortal{Store: openStore(t, path)}, events: make(chan cluster.Event, 10000), done: make(chan struct{})}
	m, err := New(Config{Clustered: true, InsecureDestinations: true, CoalesceWait: -1}, Deps{
		Store: n.st, Signer: testSigner(), Clock: clk, Registerer: prometheus.NewRegistry(),
		OnLeaseLost: func(s store.StreamID) { n.c.LeaseLost(s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := cluster.New(n.st, m, cluster.Config{
		ReplicaID: id, Clock: clk, OnEvent: func(e cluster.Event) { n.events <- e },
	})
	if err != nil {
		t.Fatal(err)
	}
	n.m, n.c = m, c
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	mDone, cDone := make(chan error, 1), make(chan error, 1)
	go func() { mDone <- m.Run(ctx) }()
	go func() { cDone <- c.Run(ctx) }()
	go func() {
		if err := <-mDone; err != nil {
			t.Errorf("%s: Manager.Run: %v", id, err)
		}
		<-cDone
		close(n.done)
	}()
	t.Cleanup(n.stop)
	n.waitRound(t, clk.Now())
	return n
}

func (n *node) stop() {
	n.cancel()
	<-n.done
}

// kill ends the replica as a crash would: its heartbeat and leases stay
// until they expire.
func (n *node) kill() {
	n.st.killed.Store(true)
	n.stop()
}

func (n *node) waitRound(t *testing.T, at time.Time) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e := <-n.events:
			if e.Kind == cluster.Rebalanced && !e.At.Before(at) {
				return
			}
		case <-timeout:
			t.Fatalf("%s: no round at %s", n.id, at)
		}
	}
}

// tick advances the shared clock by a rebalance period and waits for the
// round of each node.
func tick(t *testing.T, clk *clock.Fake, ns ...*node) {
	t.Helper()
	clk.Advance(cluster.DefaultRebalanceEvery)
	for _, n := range ns {
		n.waitRound(t, clk.Now())
	}
}

// streamsOf lists the streams n's Manager runs a dispatcher for.
func (n *node) streamsOf() []store.StreamID {
	n.m.mu.RLock()
	defer n.m.mu.RUnlock()
	return slices.Sorted(maps.Keys(n.m.disp))
}

// waitDispatchers waits until each node runs dispatchers for exactly the
// streams rendezvous hashing gives it among ids.
func waitDispatchers(t *testing.T, hooks []hook, ids []string, ns ...*node) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var errs []string
		for _, n := range ns {
			var want []store.StreamID
			for _, h := range hooks {
				if cluster.Preferred(h.stream, ids) == n.id {
					want = append(want, h.stream)
				}
			}
			slices.Sort(want)
			if got := n.streamsOf(); !slices.Equal(got, want) {
				errs = append(errs, fmt.Sprintf("%s runs %v, want %v", n.id, got, want))
			}
		}
		if errs == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(errs)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// hooksSplit creates webhooks to endpoint until each of ids is preferred
// for at least two, so every replica has work whatever the uuids are.
func hooksSplit(t *testing.T, st store.Store, endpoint string, ids []string) []hook {
	t.Helper()
	var hooks []hook
	count := map[string]int{}
	for slices.ContainsFunc(ids, func(id string) bool { return count[id] < 2 }) {
		h := addWebhook(t, st, endpoint, audit.FormatCEF)
		hooks = append(hooks, h)
		count[cluster.Preferred(h.stream, ids)]++
	}
	return hooks
}

// uniqueEntries are entries whose trace ids name their stream, so the
// lines of all webhooks can be told apart at one sink.
func uniqueEntries(h hook, from, n int) []store.NewEntry {
	es := entries(h, from, n)
	for i := range es {
		es[i].Entry.TraceID = fmt.Sprintf("%s-%d", h.org, from+i)
	}
	return es
}
