package postgres

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/postgres/pgtest"
)

func testEntry(stream store.StreamID, trace string) store.NewEntry {
	return store.NewEntry{Stream: stream, Entry: audit.Entry{
		Kind: audit.KindAccess, Time: time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC), Product: audit.ProductKonnect,
		ClassID: audit.AccessClassIngress, Name: audit.AccessName, Src: "198.51.100.4", OrgID: "org",
		PrincipalID: "p", TraceID: trace, Act: "GET", Status: 200, Request: "/v2/x",
	}}
}

// terminateBackends ends every other session on url's database, as a
// restart or failover would.
func terminateBackends(t *testing.T, url string) int {
	t.Helper()
	c, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var n int
	if err := c.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// okOrUnavailable fails the test unless err is nil or Unavailable.
func okOrUnavailable(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil && !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("%s: %v (code %s), want success or Unavailable", what, err, apperr.CodeOf(err))
	}
}

// Sessions killed on the server (a restart, a failover): the calls that
// follow work again by themselves, on fresh connections.
func TestTerminatedConnectionsRecover(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	s := openURL(t, url, Options{MaxConns: 4})
	ctx := t.Context()
	st := store.StreamID("stream-" + strconv.Itoa(int(time.Now().UnixNano())))
	org := store.Org{ID: "org-1", Name: "acme", CreatedAt: time.Unix(1, 0)}
	if err := s.CreateOrg(ctx, org); err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		// Fill the pool with idle connections, then kill them all.
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() { s.pool.Exec(ctx, "SELECT pg_sleep(0.05)") })
		}
		wg.Wait()
		if n := terminateBackends(t, url); n == 0 {
			t.Fatal("no session to terminate")
		}
		time.Sleep(20 * time.Millisecond) // let the terminations land

		_, err := s.GetOrg(ctx, org.ID)
		if err != nil {
			t.Fatalf("round %d: read after terminating sessions: %v", round, err)
		}
		seqs, err := s.Append(ctx, []store.NewEntry{testEntry(st, fmt.Sprint(round))})
		if err != nil {
			t.Fatalf("round %d: append after terminating sessions: %v", round, err)
		}
		if seqs[0] != int64(round+1) {
			t.Fatalf("round %d: seq %d, want %d", round, seqs[0], round+1)
		}
		if err := s.Heartbeat(ctx, "r1", time.Now().Add(time.Minute)); err != nil {
			t.Fatalf("round %d: write after terminating sessions: %v", round, err)
		}
	}
}

// The database vanishing mid-run (network cut, server gone) is Unavailable
// (503 at the API), quickly, and the store recovers when it is back.
func TestUnreachableMidRunIsUnavailable(t *testing.T) {
	t.Parallel()
	p, viaProxy := proxiedDB(t)
	s := openURL(t, viaProxy, Options{ConnectTimeout: time.Second})
	ctx := t.Context()
	st := store.StreamID("s")
	if _, err := s.Append(ctx, []store.NewEntry{testEntry(st, "before")}); err != nil {
		t.Fatal(err)
	}

	p.cut()
	start := time.Now()
	calls := map[string]func() error{
		"read":   func() error { _, err := s.GetOrg(ctx, "x"); return err },
		"write":  func() error { return s.CreateOrg(ctx, store.Org{ID: "o", Name: "o"}) },
		"append": func() error { _, err := s.Append(ctx, []store.NewEntry{testEntry(st, "during")}); return err },
		"ping":   func() error { return s.Ping(ctx) },
	}
	for name, call := range calls {
		err := call()
		if !apperr.Is(err, apperr.Unavailable) {
			t.Fatalf("%s while the database is unreachable: %v (code %s), want Unavailable", name, err, apperr.CodeOf(err))
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("failing took %s", d)
	}

	p.restore()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := s.Append(ctx, []store.NewEntry{testEntry(st, "after")})
		if err == nil {
			break
		}
		okOrUnavailable(t, err, "append after the database came back")
		if time.Now().After(deadline) {
			t.Fatalf("the store did not recover: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after recovery: %v", err)
	}
}

// The database stops answering without closing anything (a network
// partition, a primary gone silent): calls on pooled connections and on
// new ones come back Unavailable within CallTimeout (WriteTimeout for
// appends, ConnectTimeout for dials), not when the caller gives up, and
// the store recovers when the database answers again.
func TestSilentDatabaseIsUnavailable(t *testing.T) {
	t.Parallel()
	p, viaProxy := proxiedDB(t)
	const bound = 300 * time.Millisecond
	s := openURL(t, viaProxy, Options{MaxConns: 8, ConnectTimeout: bound, WriteTimeout: bound, CallTimeout: bound})
	st := store.StreamID("s")
	org := store.Org{ID: "org-1", Name: "acme", CreatedAt: time.Unix(1, 0)}
	if err := s.CreateOrg(t.Context(), org); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(t.Context(), []store.NewEntry{testEntry(st, "before")}); err != nil {
		t.Fatal(err)
	}
	// Idle connections in the pool, which the calls below pick up first.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { s.pool.Exec(t.Context(), "SELECT pg_sleep(0.05)") })
	}
	wg.Wait()

	p.stall()
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"read", func(ctx context.Context) error { _, err := s.GetOrg(ctx, org.ID); return err }},
		{"list", func(ctx context.Context) error { _, err := s.LiveReplicas(ctx, time.Now()); return err }},
		{"write", func(ctx context.Context) error { return s.Heartbeat(ctx, "r1", time.Now().Add(time.Minute)) }},
		{"append", func(ctx context.Context) error {
			_, err := s.Append(ctx, []store.NewEntry{testEntry(st, "during")})
			return err
		}},
		{"ping", func(ctx context.Context) error { return s.Ping(ctx) }},
	}
	for _, c := range calls {
		// The caller would wait far longer; the store must not.
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		err := c.call(ctx)
		callerGaveUp := ctx.Err() != nil
		cancel()
		if callerGaveUp || !apperr.Is(err, apperr.Unavailable) {
			t.Errorf("%s while the database is silent: %v (code %s, caller gave up: %v), want Unavailable",
				c.name, err, apperr.CodeOf(err), callerGaveUp)
		}
	}

	p.unstall()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for {
		_, err := s.GetOrg(ctx, org.ID)
		if err == nil {
			break
		}
		okOrUnavailable(t, err, "read after the database answers again")
		if ctx.Err() != nil {
			t.Fatalf("the store did not recover: %v", err)
		}
	}
	if _, err := s.Append(ctx, []store.NewEntry{testEntry(st, "after")}); err != nil {
		t.Fatalf("append after recovery: %v", err)
	}
}

// An append whose caller stops waiting while it is queued behind a commit
// the database does not answer: ingest's (marked store.DropIfAbandoned:
// its producer is told the entries may have been stored and sends them
// again) is dropped rather than stored twice; the server's own entries
// (unmarked: nobody sends them again) are committed late rather than lost.
func TestAppendGivenUpInTheQueue(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		mark   func(context.Context) context.Context
		stored bool
	}{
		{"ingest's is dropped", store.DropIfAbandoned, false},
		{"the server's own is stored late", func(ctx context.Context) context.Context { return ctx }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, viaProxy := proxiedDB(t)
			s := openURL(t, viaProxy, Options{WriteTimeout: time.Minute})
			ctx := t.Context()
			if _, err := s.Append(ctx, []store.NewEntry{testEntry("warm", "x")}); err != nil {
				t.Fatal(err)
			}

			// The first append's commit hangs on a silent database...
			p.stall()
			first := make(chan error, 1)
			go func() {
				_, err := s.Append(ctx, []store.NewEntry{testEntry("first", "1")})
				first <- err
			}()
			for s.pool.Stat().AcquiredConns() == 0 {
				runtime.Gosched()
			}
			// ... so the second waits in the queue until its caller gives up.
			gctx, cancel := context.WithCancel(tc.mark(ctx))
			queued := make(chan error, 1)
			go func() {
				_, err := s.Append(gctx, []store.NewEntry{testEntry("given-up", "2")})
				queued <- err
			}()
			for len(s.w.reqs) == 0 {
				runtime.Gosched()
			}
			cancel()
			if err := <-queued; !errors.Is(err, context.Canceled) {
				t.Fatalf("the queued append after its caller gave up: %v, want context.Canceled", err)
			}

			p.unstall()
			okOrUnavailable(t, <-first, "the first append")
			// The writer takes appends in order: once this one is in, the
			// given-up one was skipped or committed.
			if _, err := s.Append(ctx, []store.NewEntry{testEntry("after", "3")}); err != nil {
				t.Fatal(err)
			}
			last, err := s.LastSeq(ctx, "given-up")
			if err != nil && !apperr.Is(err, apperr.NotFound) {
				t.Fatal(err)
			}
			if stored := last == 1; stored != tc.stored {
				t.Fatalf("the append given up in the queue: last seq %d, want stored %v", last, tc.stored)
			}
		})
	}
}

// A caller's cancelled context comes back as the context's error.
func TestContextErrorsPassThrough(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.GetOrg(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("GetOrg with a cancelled context: %v", err)
	}
	if _, err := s.Append(ctx, []store.NewEntry{testEntry("s", "x")}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with a cancelled context: %v", err)
	}
	ctx, cancel = context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	err := s.write(ctx, "sleep", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "SELECT pg_sleep(5)")
		return err
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a statement past the caller's deadline: %v", err)
	}
}

// Calls after Close are Unavailable, never hang.
func TestCallsAfterCloseAreUnavailable(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), pgtest.URL(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := s.Append(t.Context(), []store.NewEntry{testEntry("s", "x")}); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("Append after Close: %v", err)
	}
	if _, err := s.GetOrg(t.Context(), "x"); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("GetOrg after Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
