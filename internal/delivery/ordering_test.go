package delivery

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
)

// siem is a SIEM that can be down (503, nothing kept) or up (2xx, every
// line kept in arrival order). Unlike recorder it never blocks, however
// many attempts a stalled strict stream makes.
type siem struct {
	up       atomic.Bool
	failures atomic.Int64
	mu       sync.Mutex
	lines    []string
	got      chan struct{} // capacity 1: lines arrived
}

func newSIEM() *siem { return &siem{got: make(chan struct{}, 1)} }

func (s *siem) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.up.Load() {
		s.failures.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		http.Error(w, "bad gzip", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		http.Error(w, "bad gzip", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.lines = append(s.lines, strings.Split(string(bytes.TrimSpace(body)), "\n")...)
	s.mu.Unlock()
	select {
	case s.got <- struct{}{}:
	default:
	}
}

// await waits until n lines arrived and returns them.
func (s *siem) await(t testing.TB, n int) []string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		s.mu.Lock()
		lines := slices.Clone(s.lines)
		s.mu.Unlock()
		if len(lines) >= n {
			return lines
		}
		select {
		case <-s.got:
		case <-deadline:
			t.Fatalf("%d lines arrived, want %d", len(lines), n)
		}
	}
}

// advanceShort fires every pending timer shorter than limit as soon as it
// is set, until the test ends: retries go at once, while the probe (armed
// for probeMin, far above limit) never comes due, so what reaches the
// destination is the dispatcher's order, not the probe's.
func advanceShort(t testing.TB, clk *clock.Fake, limit time.Duration) {
	t.Helper()
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Microsecond):
			}
			for _, d := range clk.Pending() {
				if d < limit {
					clk.Advance(d)
					break
				}
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
}

func setOrdering(t testing.TB, st store.Store, h *hook, ordering string) {
	t.Helper()
	h.dest.Ordering = ordering
	if err := st.UpdateDestination(context.Background(), h.dest); err != nil {
		t.Fatal(err)
	}
}

// An outage that exhausts the retries, entries appended during it, then a
// recovery: strict ordering delivers the stream in order; best effort
// (unchanged) sends the newest batch first and the failed ranges after.
func TestOrderingAcrossOutage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ordering string
		want     []string
	}{
		{store.OrderingStrict, seqTraces(1, 9)},
		{store.OrderingBestEffort, append(seqTraces(7, 9), seqTraces(1, 6)...)},
	} {
		t.Run(tc.ordering, func(t *testing.T) {
			t.Parallel()
			st := newStore(t)
			dst := newSIEM()
			srv := httptest.NewServer(dst) // 127.0.0.1
			defer srv.Close()
			h := addWebhook(t, st, srv.URL, audit.FormatCEF)
			setOrdering(t, st, &h, tc.ordering)
			clk := clock.NewFake(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
			advanceShort(t, clk, time.Second)
			retry := RetryPolicy{Min: 10 * time.Millisecond, Max: 100 * time.Millisecond, Rand: noJitter.Rand}
			m := startManager(t, st, managerOpts{clock: clk, cfg: Config{Retry: retry}})

			record(t, m, entries(h, 1, 3)) // fails: the siem is down
			waitState(t, st, h, func(s store.WebhookState) bool { return len(s.FailedRanges) > 0 })
			record(t, m, entries(h, 4, 3)) // appended during the outage
			if tc.ordering == store.OrderingStrict {
				// Newer entries wait behind the failed batch: the cursor
				// stays, the oldest range is retried, the status says so.
				seen := dst.failures.Load()
				for dst.failures.Load() < seen+3 {
					time.Sleep(time.Millisecond)
				}
				s := state(t, st, h)
				if s.Cursor != 3 || s.Status != store.StatusInactive || !slices.Equal(s.FailedRanges, []store.SeqRange{{From: 1, To: 3}}) {
					t.Fatalf("during the outage: %+v", s)
				}
			} else {
				waitState(t, st, h, func(s store.WebhookState) bool { return s.Cursor == 6 })
			}
			dst.up.Store(true)
			record(t, m, entries(h, 7, 3))
			got := traceIDs(t, testVerifier(t), dst.await(t, 9))
			if !slices.Equal(got, tc.want) {
				t.Fatalf("received %v, want %v", got, tc.want)
			}
			s := waitState(t, st, h, func(s store.WebhookState) bool { return s.Cursor == 9 && len(s.FailedRanges) == 0 })
			if s.Status != store.StatusActive || s.LostEntries != 0 {
				t.Fatalf("after recovery: %+v", s)
			}
		})
	}
}

// With strict ordering the oldest failed batch is retried on the retry
// policy's schedule, capped at its maximum, for as long as it takes; a
// newer entry is not sent meanwhile, nor is a probe armed.
func TestStrictRetriesOldestWithCappedBackoff(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	var up atomic.Bool
	dst := newRecorder()
	dst.setAnswer(func(_ int, w http.ResponseWriter, _ *http.Request) {
		if !up.Load() {
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	srv := httptest.NewServer(dst)
	defer srv.Close()
	h := addWebhook(t, st, srv.URL, audit.FormatCEF)
	setOrdering(t, st, &h, store.OrderingStrict)
	clk := clock.NewFake(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	m := startManager(t, st, managerOpts{clock: clk, cfg: Config{Retry: noJitter}})
	v := testVerifier(t)
	sent := func() []string { t.Helper(); return traceIDs(t, v, dst.next(t).lines) }

	record(t, m, entries(h, 1, 1))
	if got := sent(); !slices.Equal(got, []string{"t1"}) {
		t.Fatalf("sent %v", got)
	}
	// The live attempts' waits, then the strict retries' going on from
	// there up to the 30 s cap, and staying there.
	waits := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		16 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, w := range waits {
		if i == 5 {
			record(t, m, entries(h, 2, 1)) // waits behind t1
		}
		waitPending(t, clk, w)
		clk.Advance(w)
		if got := sent(); !slices.Equal(got, []string{"t1"}) {
			t.Fatalf("attempt %d sent %v", i+2, got)
		}
	}
	s := waitState(t, st, h, func(s store.WebhookState) bool { return s.LastAttemptAt.Equal(clk.Now()) })
	if s.Status != store.StatusInactive || s.Cursor != 1 || s.LastResponseCode != http.StatusBadGateway {
		t.Fatalf("stalled state %+v", s)
	}
	up.Store(true)
	waitPending(t, clk, 30*time.Second)
	clk.Advance(30 * time.Second)
	if got := append(sent(), sent()...); !slices.Equal(got, []string{"t1", "t2"}) {
		t.Fatalf("after recovery sent %v", got)
	}
	waitState(t, st, h, func(s store.WebhookState) bool {
		return s.Cursor == 2 && len(s.FailedRanges) == 0 && s.Status == store.StatusActive
	})
}
