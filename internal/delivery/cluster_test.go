package delivery

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/cluster"
	"github.com/sigtrail/sigtrail/internal/store"
)

// Two replicas on one database file, one sink: entries appended through
// either replica all arrive, each webhook sent by one replica; after one
// is killed with a batch in flight, the other takes its webhooks over from
// the stored cursors, and only that batch arrives twice.
func TestClusteredDelivery(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "db")
	setup := openStore(t, path)
	var hold atomic.Bool
	release := make(chan struct{})
	sink := newRecorder()
	sink.setAnswer(func(_ int, _ http.ResponseWriter, r *http.Request) {
		if hold.Load() {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	})
	srv := httptest.NewServer(sink)
	t.Cleanup(srv.Close) // after the replicas stop (cleanups run last first)
	ids := []string{"r0", "r1"}
	hooks := hooksSplit(t, setup, srv.URL, ids)
	clk := clock.NewFake(time.Now())
	a, b := startNode(t, path, "r0", clk), startNode(t, path, "r1", clk)
	// r0 took everything before r1 was live; it hands r1's share over at
	// its next round and r1 takes it at the one after.
	tick(t, clk, a, b)
	tick(t, clk, a, b)
	waitDispatchers(t, hooks, ids, a, b)

	ctx := context.Background()
	alive := []*node{a, b}
	want, got := map[string]bool{}, map[string]int{}
	// appendVia appends through one replica and tells the others, as the
	// database's change feed would.
	appendVia := func(via *node, h hook, from, n int) {
		t.Helper()
		es := uniqueEntries(h, from, n)
		seqs, err := via.m.Record(ctx, es)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range alive {
			if o != via {
				o.m.StreamGrew(h.stream, seqs[len(seqs)-1])
			}
		}
		for _, e := range es {
			want[e.Entry.TraceID] = true
		}
	}
	receive := func() []string {
		t.Helper()
		ids := traceIDs(t, testVerifier(t), sink.next(t).lines)
		for _, id := range ids {
			got[id]++
		}
		return ids
	}
	receiveAll := func() {
		t.Helper()
		for len(got) < len(want) {
			receive()
		}
		for id := range got {
			if !want[id] {
				t.Fatalf("unexpected entry %s", id)
			}
		}
	}
	for i, h := range hooks {
		appendVia(alive[i%2], h, 1, 3)
		appendVia(alive[(i+1)%2], h, 4, 2)
	}
	receiveAll()
	for id, n := range got {
		if n != 1 {
			t.Fatalf("%s arrived %d times with both replicas up", id, n)
		}
	}
	for _, h := range hooks {
		waitState(t, setup, h, func(s store.WebhookState) bool { return s.Cursor == 5 })
	}

	// r0 dies while the sink holds its request for entries 6-8 of one of
	// its webhooks.
	var victim hook
	for _, h := range hooks {
		if cluster.Preferred(h.stream, ids) == "r0" {
			victim = h
			break
		}
	}
	hold.Store(true)
	appendVia(b, victim, 6, 3)
	inFlight := receive()
	died := clk.Now()
	a.kill()
	alive = []*node{b}
	hold.Store(false)
	close(release)
	// More arrive while nobody sends r0's webhooks.
	for _, h := range hooks {
		appendVia(b, h, 9, 2)
	}
	for clk.Now().Sub(died) <= cluster.DefaultLeaseTTL {
		tick(t, clk, b)
	}
	waitDispatchers(t, hooks, []string{"r1"}, b)
	receiveAll()
	for _, id := range inFlight {
		if got[id] != 2 {
			t.Errorf("%s was in flight at the kill and arrived %d times, want 2 (sent again from the stored cursor)", id, got[id])
		}
	}
	for id, n := range got {
		if n > 1 && !slices.Contains(inFlight, id) {
			t.Errorf("%s arrived %d times but was not in flight at the kill", id, n)
		}
	}
	for _, h := range hooks {
		last, err := setup.LastSeq(ctx, h.stream)
		if err != nil {
			t.Fatal(err)
		}
		waitState(t, setup, h, func(s store.WebhookState) bool { return s.Cursor == last })
	}
	t.Logf("%d webhooks, %d entries; in flight at the kill and sent again: %v", len(hooks), len(want), inFlight)
}

// A replica whose lease another replica took stops that dispatcher at its
// first fenced write, tells its coordinator, and sends no more of it.
func TestClusteredLeaseLostStopsDispatcher(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "db")
	setup := openStore(t, path)
	sink := newRecorder()
	srv := httptest.NewServer(sink)
	t.Cleanup(srv.Close)
	h := addWebhook(t, setup, srv.URL, audit.FormatCEF)
	clk := clock.NewFake(time.Now())
	a := startNode(t, path, "r0", clk)
	waitDispatchers(t, []hook{h}, []string{"r0"}, a)
	ctx := context.Background()
	record(t, a.m, uniqueEntries(h, 1, 1))
	sink.next(t)
	waitState(t, setup, h, func(s store.WebhookState) bool { return s.Cursor == 1 })

	// Another replica takes the lease while r0 is, as far as r0 knows,
	// still its holder (r0 was paused, say).
	held := a.c.Held()[h.stream]
	if err := setup.RemoveReplica(ctx, "r0"); err != nil {
		t.Fatal(err)
	}
	l, err := setup.AcquireLease(ctx, store.WebhookLease(h.stream), "r9", clk.Now(), clk.Now().Add(time.Hour))
	if err != nil || l.Epoch <= held.Epoch {
		t.Fatalf("take-over: %+v, %v (r0 held epoch %d)", l, err, held.Epoch)
	}
	record(t, a.m, uniqueEntries(h, 2, 1))
	sink.next(t) // sent before the answer's status write found the lease gone
	timeout := time.After(30 * time.Second)
	for lost := false; !lost; {
		select {
		case e := <-a.events:
			lost = e.Kind == cluster.LeaseLost && e.Stream == h.stream
		case <-timeout:
			t.Fatal("the coordinator never heard of the lost lease")
		}
	}
	if got := a.streamsOf(); len(got) != 0 {
		t.Fatalf("r0 still runs %v", got)
	}
	if s := state(t, setup, h); s.Cursor != 1 {
		t.Fatalf("the fenced-out replica moved the cursor: %+v", s)
	}
	err = setup.AdvanceCursor(ctx, h.stream, held.Epoch, 2, nil)
	if !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("a write with r0's fence: %v, want ErrLeaseLost", err)
	}
}
