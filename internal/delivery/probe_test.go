package delivery

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
)

// noJitter makes the retry waits exactly 1, 2, 4 and 8 s.
var noJitter = RetryPolicy{Rand: func() float64 { return 0 }}

// waitPending waits until the fake clock's pending timers are exactly want:
// the code under test arms them from its own goroutine.
func waitPending(t testing.TB, clk *clock.Fake, want ...time.Duration) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := clk.Pending()
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pending timers %v, want %v", got, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitTimer waits until a timer of d is pending on the fake clock.
func waitTimer(t testing.TB, clk *clock.Fake, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !slices.Contains(clk.Pending(), d) {
		if time.Now().After(deadline) {
			t.Fatalf("pending timers %v, want one of %v", clk.Pending(), d)
		}
		time.Sleep(time.Millisecond)
	}
}

// A failed range on a stream that sees no new entry is probed on the
// clock, with backoff, and delivered once the destination accepts again:
// whether the failure was a retryable 500 or a 413 that is never retried.
func TestFailedRangeProbedOnIdleStream(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		retryWaits []time.Duration // of the live batch, before its range is failed
	}{
		{"500 until retries are exhausted", http.StatusInternalServerError,
			[]time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}},
		{"413, not retried", http.StatusRequestEntityTooLarge, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := newStore(t)
			var status atomic.Int32
			status.Store(int32(tc.status))
			dst := newRecorder()
			dst.setAnswer(func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(int(status.Load())) })
			srv := httptest.NewServer(dst)
			defer srv.Close()
			h := addWebhook(t, st, srv.URL, audit.FormatCEF)
			clk := clock.NewFake(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
			m := startManager(t, st, managerOpts{clock: clk, cfg: Config{Retry: noJitter}})
			v := testVerifier(t)

			record(t, m, entries(h, 1, 3))
			dst.next(t)
			for _, w := range tc.retryWaits {
				waitPending(t, clk, w)
				clk.Advance(w)
				dst.next(t)
			}
			// The destination still refuses: each probe is one request,
			// and the next one waits twice as long.
			for _, w := range []time.Duration{probeMin, 2 * probeMin} {
				waitPending(t, clk, w)
				s := state(t, st, h)
				if s.Status != store.StatusInactive || s.LastResponseCode != tc.status || s.Cursor != 3 ||
					!slices.Equal(s.FailedRanges, []store.SeqRange{{From: 1, To: 3}}) {
					t.Fatalf("before the probe after %v: %+v", w, s)
				}
				if n := len(dst.arrived); n != 0 {
					t.Fatalf("%d requests besides the probes", n)
				}
				clk.Advance(w)
				if got := traceIDs(t, v, dst.next(t).lines); !slices.Equal(got, seqTraces(1, 3)) {
					t.Fatalf("probe sent %v", got)
				}
			}
			waitPending(t, clk, 4*probeMin)
			status.Store(http.StatusOK) // recovered; no new entry comes
			clk.Advance(4 * probeMin)
			if got := traceIDs(t, v, dst.next(t).lines); !slices.Equal(got, seqTraces(1, 3)) {
				t.Fatalf("probe sent %v", got)
			}
			// The range is resolved and the attempt recorded in two writes:
			// wait for both rather than read between them.
			waitState(t, st, h, func(s store.WebhookState) bool {
				return len(s.FailedRanges) == 0 && s.Status == store.StatusActive && s.LastResponseCode == http.StatusOK
			})
			waitPending(t, clk) // nothing left to probe
		})
	}
}

// The probe backs off up to probeMax and stays there.
func TestProbeBackoffCapped(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	dst := newRecorder()
	dst.setAnswer(func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadRequest) })
	srv := httptest.NewServer(dst)
	defer srv.Close()
	h := addWebhook(t, st, srv.URL, audit.FormatCEF)
	clk := clock.NewFake(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	m := startManager(t, st, managerOpts{clock: clk})
	record(t, m, entries(h, 1, 1))
	dst.next(t)
	for _, w := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute} {
		waitPending(t, clk, w)
		clk.Advance(w)
		dst.next(t)
	}
	s := waitState(t, st, h, func(s store.WebhookState) bool { return s.LastAttemptAt.Equal(clk.Now()) })
	if s.Status != store.StatusInactive || s.LastResponseCode != http.StatusBadRequest || len(s.FailedRanges) != 1 {
		t.Fatalf("state %+v", s)
	}
}

// A range the destination refuses for what it holds (a 413 on that range
// only) is not sent again with every new batch that gets a 2xx: after its
// resend is refused, only the probe tries it.
func TestRefusedRangeWaitsForProbe(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	var poisoned atomic.Bool
	poisoned.Store(true)
	dst := newRecorder()
	dst.setAnswer(func(n int, w http.ResponseWriter, _ *http.Request) {
		dst.mu.Lock()
		lines := dst.requests[n].lines
		dst.mu.Unlock()
		for _, l := range lines {
			if poisoned.Load() && strings.Contains(l, " trace_id=t1 ") {
				w.WriteHeader(http.StatusRequestEntityTooLarge)
				return
			}
		}
	})
	srv := httptest.NewServer(dst)
	defer srv.Close()
	h := addWebhook(t, st, srv.URL, audit.FormatCEF)
	clk := clock.NewFake(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	m := startManager(t, st, managerOpts{clock: clk})
	v := testVerifier(t)
	next := func() []string { t.Helper(); return traceIDs(t, v, dst.next(t).lines) }

	record(t, m, entries(h, 1, 1)) // t1 is refused: failed range 1-1
	if got := next(); !slices.Equal(got, []string{"t1"}) {
		t.Fatalf("sent %v", got)
	}
	waitState(t, st, h, func(s store.WebhookState) bool { return s.Cursor == 1 })
	// A 2xx for t2 sends the failed range again at once; it is refused.
	record(t, m, entries(h, 2, 1))
	var got []string
	for range 2 {
		got = append(got, next()...)
	}
	if !slices.Equal(got, []string{"t2", "t1"}) {
		t.Fatalf("sent %v, want t2 then the resend of t1", got)
	}
	waitPending(t, clk, probeMin)
	// More 2xx: the refused range is left to the probe.
	for i := 3; i <= 5; i++ {
		record(t, m, entries(h, i, 1))
		if got := next(); !slices.Equal(got, []string{fmt.Sprint("t", i)}) {
			t.Fatalf("sent %v", got)
		}
	}
	waitState(t, st, h, func(s store.WebhookState) bool { return s.Cursor == 5 })
	if n := len(dst.arrived); n != 0 {
		t.Fatalf("%d extra requests", n)
	}
	poisoned.Store(false)
	waitPending(t, clk, probeMin)
	clk.Advance(probeMin)
	if got := next(); !slices.Equal(got, []string{"t1"}) {
		t.Fatalf("probe sent %v", got)
	}
	s := waitState(t, st, h, func(s store.WebhookState) bool { return len(s.FailedRanges) == 0 })
	if s.Status != store.StatusActive {
		t.Fatalf("state %+v", s)
	}
}

// Record wakes the dispatcher even when Append reports an error, since the
// store may have committed anyway (SQLite finishes a commit whose caller's
// context ended). The entries appended straight to the store stand for such
// a commit: before the error surfaced, or after it (then the recheck on the
// clock finds them).
func TestRecordWakesAfterAppendError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		late bool // the commit lands after Record returned
	}{
		{"committed before the error", false},
		{"committed after the error", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := newStore(t)
			dst := newRecorder()
			srv := httptest.NewServer(dst)
			defer srv.Close()
			h := addWebhook(t, st, srv.URL, audit.FormatCEF)
			clk := clock.NewFake(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
			m := startManager(t, st, managerOpts{clock: clk})
			v := testVerifier(t)
			record(t, m, entries(h, 1, 1))
			dst.next(t)
			waitState(t, st, h, func(s store.WebhookState) bool { return s.Cursor == 1 })

			committed := func() {
				if _, err := st.Append(context.Background(), entries(h, 2, 2)); err != nil {
					t.Fatal(err)
				}
			}
			if !tc.late {
				committed()
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if _, err := m.Record(ctx, entries(h, 100, 1)); err == nil {
				t.Fatal("Record with a cancelled context reported success")
			}
			if tc.late {
				// The wake-up has been handled (the recheck is armed after
				// the read it caused); only the recheck can find these.
				waitPending(t, clk, recheckFirst)
				committed()
				clk.Advance(recheckFirst)
			}
			if got := traceIDs(t, v, dst.next(t).lines); !slices.Equal(got, seqTraces(2, 3)) {
				t.Fatalf("delivered %v", got)
			}
			waitState(t, st, h, func(s store.WebhookState) bool { return s.Cursor == 3 })
		})
	}
}
