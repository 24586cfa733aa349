package delivery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
)

// The status follows each attempt: active after a 2xx, inactive after a
// failure, active again once the destination recovers.
func TestStatusTransitions(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	var status atomic.Int32
	status.Store(200)
	dst := newRecorder()
	dst.setAnswer(func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(int(status.Load()))
		_, _ = w.Write([]byte("intake says hello\nsecond line"))
	})
	srv := httptest.NewServer(dst)
	defer srv.Close()
	h := addWebhook(t, st, srv.URL, audit.FormatCEF)
	if s := state(t, st, h); s.Status != store.StatusActive || !s.LastAttemptAt.IsZero() {
		t.Fatalf("new webhook: %+v", s)
	}
	clk := clock.NewFake(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	m := startManager(t, st, managerOpts{clock: clk})

	steps := []struct {
		status      int
		wantStatus  string
		wantMessage string
	}{
		{200, store.StatusActive, "200 OK: intake says hello second line"},
		{401, store.StatusInactive, "401 Unauthorized: intake says hello second line"},
		{201, store.StatusActive, "201 Created: intake says hello second line"},
		{403, store.StatusInactive, "403 Forbidden: intake says hello second line"},
	}
	for i, step := range steps {
		status.Store(int32(step.status))
		// Past the coalescing of repeated 2xx writes, short of the probe of
		// the range failed by a 4xx step.
		clk.Advance(2 * statusWriteEvery)
		record(t, m, entries(h, i+1, 1))
		dst.next(t)
		s := waitState(t, st, h, func(s store.WebhookState) bool { return s.Cursor == int64(i+1) })
		if s.Status != step.wantStatus || s.LastResponseCode != step.status || s.LastResponseMessage != step.wantMessage ||
			!s.LastAttemptAt.Equal(clk.Now()) {
			t.Fatalf("step %d: %+v", i, s)
		}
	}
}

// A batch that failed is sent again, automatically, once the destination
// answers 2xx, and its range is resolved.
func TestFailedRangeRecovery(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	var failing atomic.Bool
	failing.Store(true)
	dst := newRecorder()
	dst.setAnswer(func(_ int, w http.ResponseWriter, _ *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	srv := httptest.NewServer(dst)
	defer srv.Close()
	h := addWebhook(t, st, srv.URL, audit.FormatCEF)
	// The clock is driven by hand, not by autoAdvance: that would also fire
	// the probe of the failed range, which has its own tests.
	clk := clock.NewFake(time.Now())
	// Short retry waits (1.5 s a batch) keep the probe (30 s) from firing.
	retry := RetryPolicy{Min: 100 * time.Millisecond, Max: time.Second, Rand: noJitter.Rand}
	m := startManager(t, st, managerOpts{clock: clk, cfg: Config{MaxBatchLines: 4, Retry: retry}})
	failBatch := func() { // the first attempt and four retries
		t.Helper()
		dst.next(t)
		for w := retry.Min; w <= 800*time.Millisecond; w *= 2 {
			waitTimer(t, clk, w)
			clk.Advance(w)
			dst.next(t)
		}
	}

	record(t, m, entries(h, 1, 3))
	failBatch()
	waitState(t, st, h, func(s store.WebhookState) bool { return s.Cursor == 3 })
	waitPending(t, clk, probeMin) // idle with a failed range: the probe is armed
	record(t, m, entries(h, 4, 6))
	failBatch() // two batches of 4 and 2
	failBatch()
	s := waitState(t, st, h, func(s store.WebhookState) bool { return s.Cursor == 9 })
	if !slices.Equal(s.FailedRanges, []store.SeqRange{{From: 1, To: 9}}) {
		t.Fatalf("failed ranges %v, want one merged range 1-9", s.FailedRanges)
	}

	failing.Store(false)
	record(t, m, entries(h, 10, 1))
	var got []string
	for len(got) < 10 {
		got = append(got, traceIDs(t, testVerifier(t), dst.next(t).lines)...)
	}
	// The new entry first, then the failed range in chunks of the line cap.
	want := append([]string{"t10"}, seqTraces(1, 9)...)
	if !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	s = waitState(t, st, h, func(s store.WebhookState) bool { return len(s.FailedRanges) == 0 })
	if s.Status != store.StatusActive || s.Cursor != 10 {
		t.Fatalf("after recovery: %+v", s)
	}
}

// Failed ranges stored by an earlier run are resent after a restart when
// the destination was healthy last, without waiting for new entries.
func TestFailedRangesResumeAfterRestart(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	dst := newRecorder()
	srv := httptest.NewServer(dst)
	defer srv.Close()
	h := addWebhook(t, st, srv.URL, audit.FormatCEF)
	ctx := context.Background()
	if _, err := st.Append(ctx, entries(h, 1, 5)); err != nil {
		t.Fatal(err)
	}
	// A previous run failed 2-3, delivered the rest, and saw a 2xx last.
	if err := st.AdvanceCursor(ctx, h.stream, store.NoFence, 5, &store.SeqRange{From: 2, To: 3}); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordAttempt(ctx, h.stream, store.NoFence, store.Attempt{At: time.Now(), ResponseCode: 200, OK: true}); err != nil {
		t.Fatal(err)
	}
	startManager(t, st, managerOpts{})
	if got := traceIDs(t, testVerifier(t), dst.next(t).lines); !slices.Equal(got, []string{"t2", "t3"}) {
		t.Fatalf("resent %v", got)
	}
	waitState(t, st, h, func(s store.WebhookState) bool { return len(s.FailedRanges) == 0 })
}
