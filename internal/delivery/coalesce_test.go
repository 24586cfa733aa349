package delivery

import (
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
)

// sinkOn127 is a recorder at a real httptest server on 127.0.0.1 that
// counts the connections opened to it.
func sinkOn127(t *testing.T) (*recorder, string, *atomic.Int64) {
	t.Helper()
	rc := newRecorder()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(rc)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return rc, srv.URL, &conns
}

// Entries that trickle in after a send go out together once the
// coalescing wait ends, over the connection already open (issue 14).
func TestTrickleCoalesces(t *testing.T) {
	t.Parallel()
	const wait = 7 * time.Millisecond
	st := newStore(t)
	rc, url, conns := sinkOn127(t)
	h := addWebhook(t, st, url, audit.FormatCEF)
	clk := clock.NewFake(time.Now())
	m := startManager(t, st, managerOpts{clock: clk, cfg: Config{CoalesceWait: wait}})

	// After a quiet spell a lone entry goes at once.
	record(t, m, entries(h, 1, 1))
	if got := traceIDs(t, testVerifier(t), rc.next(t).lines); !slices.Equal(got, seqTraces(1, 1)) {
		t.Fatalf("first request %v", got)
	}
	// The next ones trickle in, one append each, while it waits.
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
	// Nothing more is sent, and both went over one connection. (The
	// batch of 9 halved the adaptive wait, coalesce.go.)
	waitTimer(t, clk, wait/2)
	select {
	case r := <-rc.arrived:
		t.Fatalf("a third request of %d lines", len(r.lines))
	default:
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections for 2 requests, want 1 (keep-alive)", n)
	}
}

// A full batch does not wait for the coalescing wait to end.
func TestCoalesceEndsAtAFullBatch(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	rc, url, _ := sinkOn127(t)
	h := addWebhook(t, st, url, audit.FormatCEF)
	clk := clock.NewFake(time.Now())
	m := startManager(t, st, managerOpts{clock: clk, cfg: Config{CoalesceWait: time.Hour, MaxBatchLines: 5}})

	record(t, m, entries(h, 1, 1))
	rc.next(t)
	for i := 2; i <= 6; i++ {
		record(t, m, entries(h, i, 1))
	}
	// The clock never moves: only the full batch can end the wait.
	if got := traceIDs(t, testVerifier(t), rc.next(t).lines); !slices.Equal(got, seqTraces(2, 6)) {
		t.Fatalf("second request %v, want t2..t6", got)
	}
}
