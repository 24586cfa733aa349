package cluster

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlite"
)

var t0 = time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)

// ledger is the truth the owners of all replicas share: who delivers what.
// It fails the test the moment two replicas deliver one stream.
type ledger struct {
	t     testing.TB
	mu    sync.Mutex
	owner map[store.StreamID]string
	// paused: a replica is paused, so it still believes it owns what it
	// lost; fencing, not the ledger, keeps it from writing.
	paused bool
}

// owner is a replica's fake delivery manager.
type owner struct {
	id    string
	l     *ledger
	mu    sync.Mutex
	owned map[store.StreamID]store.Fence
}

func (o *owner) Own(s store.StreamID, f store.Fence) {
	o.l.mu.Lock()
	if cur, ok := o.l.owner[s]; ok && cur != o.id && !o.l.paused {
		o.l.t.Errorf("%s owns %s while %s does", o.id, s, cur)
	}
	o.l.owner[s] = o.id
	o.l.mu.Unlock()
	o.mu.Lock()
	o.owned[s] = f
	o.mu.Unlock()
}

func (o *owner) Disown(s store.StreamID) {
	o.l.mu.Lock()
	if o.l.owner[s] == o.id {
		delete(o.l.owner, s)
	}
	o.l.mu.Unlock()
	o.mu.Lock()
	delete(o.owned, s)
	o.mu.Unlock()
}

func (o *owner) snapshot() map[store.StreamID]store.Fence {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[store.StreamID]store.Fence, len(o.owned))
	for s, f := range o.owned {
		out[s] = f
	}
	return out
}

// gate is one replica's store handle, which a test can cut off (every call
// fails, as when the database is unreachable) or kill (RemoveReplica does
// nothing, as when the process dies without shutting down).
type gate struct {
	*sqlite.Store
	cut    atomic.Bool
	killed atomic.Bool
}

var errCut = errors.New("test: the database is unreachable")

func (g *gate) ListEnabledWebhooks(ctx context.Context) ([]store.Webhook, error) {
	if g.cut.Load() {
		return nil, errCut
	}
	return g.Store.ListEnabledWebhooks(ctx)
}

func (g *gate) Heartbeat(ctx context.Context, r string, exp time.Time) error {
	if g.cut.Load() {
		return errCut
	}
	return g.Store.Heartbeat(ctx, r, exp)
}

func (g *gate) LiveReplicas(ctx context.Context, now time.Time) ([]string, error) {
	if g.cut.Load() {
		return nil, errCut
	}
	return g.Store.LiveReplicas(ctx, now)
}

func (g *gate) RemoveReplica(ctx context.Context, r string) error {
	if g.cut.Load() {
		return errCut
	}
	if g.killed.Load() {
		return nil
	}
	return g.Store.RemoveReplica(ctx, r)
}

func (g *gate) AcquireLease(ctx context.Context, name, o string, now, exp time.Time) (store.Lease, error) {
	if g.cut.Load() {
		return store.Lease{}, errCut
	}
	return g.Store.AcquireLease(ctx, name, o, now, exp)
}

func (g *gate) RenewLeases(ctx context.Context, held []store.Lease, exp time.Time) ([]store.Lease, error) {
	if g.cut.Load() {
		return nil, errCut
	}
	return g.Store.RenewLeases(ctx, held, exp)
}

func (g *gate) ReleaseLease(ctx context.Context, l store.Lease) error {
	if g.cut.Load() {
		return errCut
	}
	return g.Store.ReleaseLease(ctx, l)
}

// replica is one Coordinator on its own store handle and its own fake
// clock, so a test can pause it by not advancing that clock.
type replica struct {
	id   string
	st   *gate
	clk  *clock.Fake // this host's clock: the cluster's time plus skew
	skew time.Duration
	// seen is how far the times in the replica's events are from the
	// cluster's: its skew, unless it reads the database's clock.
	seen   time.Duration
	owner  *owner
	c      *Coordinator
	events chan Event
	cancel context.CancelFunc
	done   chan error
}

// testCluster is a database file and the replicas sharing it.
type testCluster struct {
	t    testing.TB
	path string
	db   *sqlite.Store // a handle of the test's own, for setup and checks
	l    *ledger
	now  time.Time // the time of the running replicas' clocks
	rs   []*replica
	// dbTime is the database server's clock, which always tells now; the
	// replicas started with skew read it through a DBClock.
	dbTime *clock.Fake
}

// fakeDBTime is the database's clock for replicas on SQLite, which has
// none of its own to read (sqlite files are never shared across hosts).
type fakeDBTime struct{ clk *clock.Fake }

func (f fakeDBTime) DatabaseNow(context.Context) (time.Time, error) { return f.clk.Now(), nil }

func newCluster(t testing.TB) *testCluster {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db")
	return &testCluster{t: t, path: path, db: open(t, path), l: &ledger{t: t, owner: map[store.StreamID]string{}}, now: t0, dbTime: clock.NewFake(t0)}
}

func open(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// addWebhooks creates n orgs, each with an enabled webhook without a
// destination (the Coordinator does not look at destinations).
func (tc *testCluster) addWebhooks(n int) []store.StreamID {
	tc.t.Helper()
	ctx := context.Background()
	var out []store.StreamID
	for range n {
		id := uuid.Must(uuid.NewV7()).String()
		if err := tc.db.CreateOrg(ctx, store.Org{ID: id, Name: "org-" + id, CreatedAt: t0}); err != nil {
			tc.t.Fatal(err)
		}
		s := store.StreamID(id)
		if err := tc.db.PutWebhook(ctx, store.Webhook{Stream: s, OrgID: id, Enabled: true, UpdatedAt: t0}); err != nil {
			tc.t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// start runs a new replica at the cluster's time and waits for its first
// round.
func (tc *testCluster) start() *replica {
	tc.t.Helper()
	return tc.startSkewed(0, false)
}

// startSkewed runs a new replica whose host clock is skew off the
// cluster's time; with onDBClock it tells time as servers on PostgreSQL
// do, through a DBClock synced with the database's clock.
func (tc *testCluster) startSkewed(skew time.Duration, onDBClock bool) *replica {
	tc.t.Helper()
	id := fmt.Sprint("r", len(tc.rs))
	r := &replica{
		id: id, st: &gate{Store: open(tc.t, tc.path)}, clk: clock.NewFake(tc.now.Add(skew)), skew: skew,
		owner:  &owner{id: id, l: tc.l, owned: map[store.StreamID]store.Fence{}},
		events: make(chan Event, 100000), done: make(chan error, 1),
	}
	var clk clock.Clock = r.clk
	r.seen = skew
	if onDBClock {
		r.seen = 0
		dc := NewDBClock(fakeDBTime{tc.dbTime}, r.clk, nil, nil)
		if err := dc.Sync(context.Background()); err != nil {
			tc.t.Fatal(err)
		}
		clk = dc
	}
	c, err := New(r.st, r.owner, Config{
		ReplicaID: id, Clock: clk,
		OnEvent: func(e Event) { r.events <- e },
	})
	if err != nil {
		tc.t.Fatal(err)
	}
	r.c = c
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- c.Run(ctx) }()
	tc.t.Cleanup(r.stop)
	tc.rs = append(tc.rs, r)
	r.waitRound(tc.t, tc.now.Add(r.seen))
	return r
}

// stop ends Run, orderly unless killed was set first.
func (r *replica) stop() {
	if r.cancel != nil {
		r.cancel()
		<-r.done
		r.cancel = nil
	}
}

// kill stops the replica as a crash would: no RemoveReplica, so its
// heartbeat and leases stay until they expire.
func (r *replica) kill() {
	r.st.killed.Store(true)
	r.stop()
}

func (r *replica) running() bool { return r.cancel != nil }

// waitRound waits for the round at or after at, and returns the events up
// to it.
func (r *replica) waitRound(t testing.TB, at time.Time) []Event {
	t.Helper()
	return r.waitEvent(t, func(e Event) bool { return e.Kind == Rebalanced && !e.At.Before(at) })
}

// waitEvent waits for an event matching ok and returns the events up to
// it, that one included.
func (r *replica) waitEvent(t testing.TB, ok func(Event) bool) []Event {
	t.Helper()
	var seen []Event
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e := <-r.events:
			seen = append(seen, e)
			if ok(e) {
				return seen
			}
		case <-timeout:
			t.Fatalf("%s: the awaited event never came; saw %v", r.id, seen)
		}
	}
}

// tick advances the clocks of the running replicas that are not in paused
// by d and waits for each one's round. It returns each one's events.
func (tc *testCluster) tick(d time.Duration, paused ...*replica) map[string][]Event {
	tc.t.Helper()
	tc.now = tc.now.Add(d)
	tc.dbTime.Set(tc.now)
	out := map[string][]Event{}
	var advanced []*replica
	for _, r := range tc.rs {
		if r.running() && !contains(paused, r) {
			r.clk.Set(tc.now.Add(r.skew))
			advanced = append(advanced, r)
		}
	}
	for _, r := range advanced {
		out[r.id] = r.waitRound(tc.t, tc.now.Add(r.seen))
	}
	return out
}

func contains(rs []*replica, r *replica) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// settle ticks by the rebalance period until every stream has exactly one
// owner among the running replicas, each being the preferred one, and
// fails after max rounds.
func (tc *testCluster) settle(streams []store.StreamID, maxRounds int) int {
	tc.t.Helper()
	for i := 0; ; i++ {
		if tc.settled(streams) == nil {
			return i
		}
		if i == maxRounds {
			tc.t.Fatalf("not settled after %d rounds: %v", maxRounds, tc.settled(streams))
		}
		tc.tick(DefaultRebalanceEvery)
	}
}

// settled checks that the owners agree with the leases in the database and
// with rendezvous hashing over the running replicas.
func (tc *testCluster) settled(streams []store.StreamID) error {
	var live []string
	owned := map[store.StreamID]string{}
	fences := map[store.StreamID]store.Fence{}
	for _, r := range tc.rs {
		if !r.running() {
			continue
		}
		live = append(live, r.id)
		for s, f := range r.owner.snapshot() {
			if o, ok := owned[s]; ok {
				return fmt.Errorf("%s owned by %s and %s", s, o, r.id)
			}
			owned[s], fences[s] = r.id, f
		}
	}
	sort.Strings(live)
	leases, err := tc.db.ListLeases(context.Background(), "webhook/")
	if err != nil {
		return err
	}
	byName := map[string]store.Lease{}
	for _, l := range leases {
		byName[l.Name] = l
	}
	for _, s := range streams {
		want := Preferred(s, live)
		if owned[s] != want {
			return fmt.Errorf("%s owned by %q, want %q", s, owned[s], want)
		}
		if l := byName[store.WebhookLease(s)]; l.Owner != want || l.Epoch != fences[s] {
			return fmt.Errorf("%s: lease %+v, owner %s has fence %d", s, l, want, fences[s])
		}
	}
	if len(owned) != len(streams) {
		return fmt.Errorf("%d streams owned, want %d", len(owned), len(streams))
	}
	return nil
}

// kinds filters events by kind.
func kinds(es []Event, k EventKind) []Event {
	var out []Event
	for _, e := range es {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}
