package delivery

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/testenv"
)

// expire deletes the entries older than cutoff as the retention sweep does
// (replay.Retention calls DeleteBefore; that package imports this one).
func expire(t testing.TB, st store.Store, cutoff time.Time) {
	t.Helper()
	if _, err := st.DeleteBefore(context.Background(), cutoff, 1000); err != nil {
		t.Fatal(err)
	}
}

// aged returns es with entry times old for the first n, so that a sweep
// with a cutoff between old and now deletes just those.
func aged(es []store.NewEntry, n int, old time.Time) []store.NewEntry {
	for i := range n {
		es[i].Entry.Time = old
	}
	return es
}

// A failed range whose entries retention deleted before the resend is a
// loss: counted in the store (status), the metric and an error log, and
// the range is not resolved quietly. Entries of it still there are sent.
// With strict ordering the same holds, and entries deleted while they
// waited behind the stalled range (after the cursor) count too.
func TestRetentionDeletedFailedRangeIsLost(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ordering string
		wantSent []string
		wantLost float64
	}{
		// t1-t2 expire, t3 survives; t4 is the live batch after recovery.
		{store.OrderingBestEffort, []string{"t4", "t3"}, 2},
		// t1-t2 expire in the failed range; t4-t5, waiting behind it,
		// expire as well; t6 survives; t7 is appended after recovery.
		{store.OrderingStrict, []string{"t3", "t6", "t7"}, 4},
	} {
		t.Run(tc.ordering, func(t *testing.T) {
			t.Parallel()
			st := newStore(t)
			dst := newSIEM()
			srv := httptest.NewServer(dst)
			defer srv.Close()
			h := addWebhook(t, st, srv.URL, audit.FormatCEF)
			setOrdering(t, st, &h, tc.ordering)
			start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
			clk := clock.NewFake(start)
			advanceShort(t, clk, time.Second)
			logs := &testenv.LogBuffer{}
			reg := prometheus.NewRegistry()
			retry := RetryPolicy{Min: 10 * time.Millisecond, Max: 100 * time.Millisecond, Rand: noJitter.Rand}
			m := startManager(t, st, managerOpts{clock: clk, reg: reg, cfg: Config{Retry: retry},
				log: slog.New(slog.NewJSONHandler(logs, nil))})
			old := time.Now().Add(-8 * 24 * time.Hour)
			cutoff := time.Now().Add(-7 * 24 * time.Hour)

			record(t, m, aged(entries(h, 1, 3), 2, old)) // the sink is down: 1-3 fail
			waitState(t, st, h, func(s store.WebhookState) bool { return len(s.FailedRanges) > 0 })
			if tc.ordering == store.OrderingStrict {
				record(t, m, aged(entries(h, 4, 3), 2, old)) // wait behind 1-3
			}
			expire(t, st, cutoff)
			if tc.ordering == store.OrderingStrict {
				// The stalled stream retries all along: let the attempt
				// that read the range before the sweep fail first.
				f := dst.failures.Load()
				for dst.failures.Load() < f+2 {
					time.Sleep(time.Millisecond)
				}
			}
			dst.up.Store(true)
			if tc.ordering == store.OrderingStrict {
				dst.await(t, 1) // t3 first: nothing newer went before it
				record(t, m, entries(h, 7, 1))
			} else {
				record(t, m, entries(h, 4, 1))
			}
			got := traceIDs(t, testVerifier(t), dst.await(t, len(tc.wantSent)))
			if !slices.Equal(got, tc.wantSent) {
				t.Fatalf("received %v, want %v", got, tc.wantSent)
			}
			s := waitState(t, st, h, func(s store.WebhookState) bool {
				return len(s.FailedRanges) == 0 && s.LostEntries == int64(tc.wantLost)
			})
			if s.LastLostAt.Before(start) || s.LastLostAt.After(clk.Now()) {
				t.Fatalf("state %+v: want the loss time on the clock, %v to %v", s, start, clk.Now())
			}
			// The metric follows the store write.
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
				v := counterValue(t, reg, "sigtrail_delivery_lost_entries_total", "")
				if v == tc.wantLost {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("sigtrail_delivery_lost_entries_total = %v, want %v", v, tc.wantLost)
				}
			}
			out := logs.String()
			if !strings.Contains(out, `"level":"ERROR"`) || !strings.Contains(out, "they are lost") {
				t.Fatalf("no error log of the loss:\n%s", out)
			}
		})
	}
}

// Entries deleted after the cursor before they were read (a webhook that
// fell behind by more than the retention; entries ingested with an old
// rt) are lost too: before the batch and inside it.
func TestRetentionDeletedAfterCursorIsLost(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	dst := newSIEM()
	dst.up.Store(true)
	srv := httptest.NewServer(dst)
	defer srv.Close()
	h := addWebhook(t, st, srv.URL, audit.FormatCEF)
	old := time.Now().Add(-8 * 24 * time.Hour)
	es := entries(h, 1, 5)
	for _, i := range []int{0, 1, 3} { // t1, t2 and t4
		es[i].Entry.Time = old
	}
	if _, err := st.Append(context.Background(), es); err != nil {
		t.Fatal(err)
	}
	expire(t, st, time.Now().Add(-7*24*time.Hour))
	reg := prometheus.NewRegistry()
	startManager(t, st, managerOpts{reg: reg})
	if got := traceIDs(t, testVerifier(t), dst.await(t, 2)); !slices.Equal(got, []string{"t3", "t5"}) {
		t.Fatalf("received %v", got)
	}
	s := waitState(t, st, h, func(s store.WebhookState) bool { return s.Cursor == 5 && s.LostEntries == 3 })
	if s.LastLostAt.IsZero() || len(s.FailedRanges) != 0 {
		t.Fatalf("state %+v", s)
	}
}
