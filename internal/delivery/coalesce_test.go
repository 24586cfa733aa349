package delivery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
)

// sinkOn127 is a recorder at a real httptest server on 127.0.0.1 that
// remembers the connections its requests came over.
func sinkOn127(t *testing.T) (*recorder, string, *connSet) {
	t.Helper()
	rc := newRecorder()
	conns := &connSet{seen: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conns.add(r.RemoteAddr)
		rc.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return rc, srv.URL, conns
}

// connSet counts the connections that carried requests. net/http may
// dial a new one when a request comes before the previous answer's
// connection is back in its idle pool (its read loop returns it
// asynchronously), and then sends the request over whichever is ready
// first; under heavy load that happens now and then.
type connSet struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (c *connSet) add(remote string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen[remote] = true
}

func (c *connSet) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

// coalescing is a webhook on a sink at 127.0.0.1 and a manager with cfg
// on a fake clock, whose first entry (t1, appended before the manager
// started, so no notification of it can wake the dispatcher again after
// it was read) has gone out at once and been settled: the setup of the
// coalescing tests.
type coalescing struct {
	st    store.Store
	rc    *recorder
	conns *connSet
	h     hook
	clk   *clock.Fake
	m     *Manager
}

func newCoalescing(t *testing.T, cfg Config) coalescing {
	t.Helper()
	c := coalescing{st: newStore(t), clk: clock.NewFake(time.Now())}
	var url string
	c.rc, url, c.conns = sinkOn127(t)
	c.h = addWebhook(t, c.st, url, audit.FormatCEF)
	if _, err := c.st.Append(context.Background(), entries(c.h, 1, 1)); err != nil {
		t.Fatal(err)
	}
	c.m = startManager(t, c.st, managerOpts{clock: c.clk, cfg: cfg})
	if got := traceIDs(t, testVerifier(t), c.rc.next(t).lines); !slices.Equal(got, seqTraces(1, 1)) {
		t.Fatalf("first request %v, want t1 at once", got)
	}
	waitCursor(t, c.st, c.h, 1)
	return c
}

// Entries that trickle in after a send go out together once the
// coalescing wait ends, over the connection already open (issue 14).
func TestTrickleCoalesces(t *testing.T) {
	t.Parallel()
	const wait = 7 * time.Millisecond
	c := newCoalescing(t, Config{CoalesceWait: wait})
	rc, conns, h, clk, m := c.rc, c.conns, c.h, c.clk, c.m

	// After a quiet spell a lone entry went at once (newCoalescing). The
	// next ones trickle in, one append each, while it waits.
	for i := 2; i <= 10; i++ {
		record(t, m, entries(h, i, 1))
	}
	waitTimer(t, clk, wait)
	select {
	case r := <-rc.arrived:
		t.Fatalf("sent %d lines before the wait ended", len(r.lines))
	default:
	}
	clk.Advance(wait)
	if got := traceIDs(t, testVerifier(t), rc.next(t).lines); !slices.Equal(got, seqTraces(2, 10)) {
		t.Fatalf("second request %v, want t2..t10 in one", got)
	}
	// Nothing is pending, so no timer runs; the next entry waits from its
	// own arrival, half as long (the batch of 9 halved the adaptive wait,
	// coalesce.go).
	if p := clk.Pending(); len(p) != 0 {
		t.Fatalf("timers %v while nothing is pending", p)
	}
	record(t, m, entries(h, 11, 1))
	waitTimer(t, clk, wait/2)
	select {
	case r := <-rc.arrived:
		t.Fatalf("sent %d lines before the wait ended", len(r.lines))
	default:
	}
	clk.Advance(wait / 2)
	if got := traceIDs(t, testVerifier(t), rc.next(t).lines); !slices.Equal(got, seqTraces(11, 11)) {
		t.Fatalf("third request %v, want t11", got)
	}
	// The connection was kept alive: all three normally go over one, and
	// at most one request goes over a second that net/http dialed while
	// the first was on its way back to the idle pool (connSet).
	if n := conns.count(); n >= 3 {
		t.Fatalf("%d connections for 3 requests: none was reused (keep-alive)", n)
	}
}

// The wait runs from the first pending entry's arrival, so an entry that
// came while the previous batch was in flight waits only what is left of
// it, and one after a quiet spell goes at once.
func TestCoalesceWaitRunsFromTheFirstEntry(t *testing.T) {
	t.Parallel()
	const wait = 10 * time.Millisecond
	c := newCoalescing(t, Config{CoalesceWait: wait})
	st, rc, h, clk, m := c.st, c.rc, c.h, c.clk, c.m

	// t2 arrives, then 4 ms pass before the dispatcher looks: 6 are left.
	record(t, m, entries(h, 2, 1))
	waitTimer(t, clk, wait)
	clk.Advance(4 * time.Millisecond)
	select {
	case r := <-rc.arrived:
		t.Fatalf("sent %d lines before the wait ended", len(r.lines))
	default:
	}
	clk.Advance(6 * time.Millisecond)
	if got := traceIDs(t, testVerifier(t), rc.next(t).lines); !slices.Equal(got, seqTraces(2, 2)) {
		t.Fatalf("second request %v, want t2", got)
	}
	// More than two waits of quiet: t3 goes without waiting.
	waitCursor(t, st, h, 2)
	clk.Advance(3 * wait)
	record(t, m, entries(h, 3, 1))
	if got := traceIDs(t, testVerifier(t), rc.next(t).lines); !slices.Equal(got, seqTraces(3, 3)) {
		t.Fatalf("third request %v, want t3", got)
	}
}

// An entry that arrives near the end of the wait takes the batch with it,
// so the batch leaves with an ingest instead of on a timer of its own; one
// that arrives earlier waits with the rest.
func TestCoalesceRidesAnArrival(t *testing.T) {
	t.Parallel()
	const wait = 8 * time.Millisecond
	c := newCoalescing(t, Config{CoalesceWait: wait})
	rc, h, clk, m := c.rc, c.h, c.clk, c.m

	record(t, m, entries(h, 2, 1))
	waitTimer(t, clk, wait)
	clk.Advance(2 * time.Millisecond)
	record(t, m, entries(h, 3, 1)) // a quarter of the wait: no
	select {
	case r := <-rc.arrived:
		t.Fatalf("sent %d lines at a quarter of the wait", len(r.lines))
	case <-time.After(50 * time.Millisecond):
	}
	clk.Advance(4 * time.Millisecond)
	record(t, m, entries(h, 4, 1)) // three quarters: it goes, with t4
	if got := traceIDs(t, testVerifier(t), rc.next(t).lines); !slices.Equal(got, seqTraces(2, 4)) {
		t.Fatalf("second request %v, want t2..t4", got)
	}
	if p := clk.Pending(); len(p) != 0 {
		t.Fatalf("timers %v after the batch left", p)
	}
}

func TestRideArrival(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_700_000_000, 0)
	const wait = 20 * time.Millisecond
	for _, tc := range []struct {
		after time.Duration
		want  bool
	}{
		{0, false}, {10 * time.Millisecond, false}, {14999 * time.Microsecond, false},
		{15 * time.Millisecond, true}, {30 * time.Millisecond, true},
	} {
		if got := rideArrival(t0, t0.Add(tc.after), wait); got != tc.want {
			t.Errorf("after %v of %v: %v, want %v", tc.after, wait, got, tc.want)
		}
	}
}

// A full batch does not wait for the coalescing wait to end.
func TestCoalesceEndsAtAFullBatch(t *testing.T) {
	t.Parallel()
	c := newCoalescing(t, Config{CoalesceWait: time.Hour, MaxBatchLines: 5})
	rc, h, m := c.rc, c.h, c.m

	for i := 2; i <= 6; i++ {
		record(t, m, entries(h, i, 1))
	}
	// The clock never moves: only the full batch can end the wait.
	if got := traceIDs(t, testVerifier(t), rc.next(t).lines); !slices.Equal(got, seqTraces(2, 6)) {
		t.Fatalf("second request %v, want t2..t6", got)
	}
}

// waitCursor waits until the webhook's cursor reaches seq: the dispatcher
// has settled the batch the sink received.
func waitCursor(t testing.TB, st store.Store, h hook, seq int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for state(t, st, h).Cursor < seq {
		if time.Now().After(deadline) {
			t.Fatalf("cursor %d, want %d", state(t, st, h).Cursor, seq)
		}
		time.Sleep(time.Millisecond)
	}
}
