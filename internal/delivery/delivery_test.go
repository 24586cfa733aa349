package delivery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
)

// A lone entry leaves at once: the clock is fake and never advanced, so a
// delivery that waited on any timer would never arrive.
func TestLoneEntryLeavesWithoutATimer(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	dst := newRecorder()
	srv := httptest.NewServer(dst)
	defer srv.Close()
	h := addWebhook(t, st, srv.URL+"/in?x=1", audit.FormatCEF)
	m := startManager(t, st, managerOpts{clock: clock.NewFake(time.Now())})

	record(t, m, entries(h, 1, 1))
	req := dst.next(t)
	if got := traceIDs(t, testVerifier(t), req.lines); !slices.Equal(got, []string{"t1"}) {
		t.Fatalf("got %v", got)
	}
	for k, want := range map[string]string{
		"Content-Type": "text/plain", "Content-Encoding": "gzip", "Authorization": testAuthorization,
	} {
		if got := req.header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
}

// Entries appended while the webhook was down go out in order, in batches
// no larger than the caps.
func TestBatchCaps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		cfg       Config
		n         int
		wantSizes []int
	}{
		{"line cap", Config{MaxBatchLines: 100}, 250, []int{100, 100, 50}},
		{"default caps", Config{}, 2100, []int{1000, 1000, 100}},
		// A CEF line of these entries is about 400 bytes signed.
		{"byte cap", Config{MaxBatchLines: 100, MaxBatchBytes: 1000}, 7, []int{2, 2, 2, 1}},
		{"a line larger than the byte cap goes alone", Config{MaxBatchBytes: 10}, 2, []int{1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := newStore(t)
			dst := newRecorder()
			srv := httptest.NewServer(dst)
			defer srv.Close()
			h := addWebhook(t, st, srv.URL, audit.FormatCEF)
			if _, err := st.Append(context.Background(), entries(h, 1, tc.n)); err != nil {
				t.Fatal(err)
			}
			startManager(t, st, managerOpts{cfg: tc.cfg})
			var sizes []int
			var got []string
			for len(got) < tc.n {
				req := dst.next(t)
				sizes = append(sizes, len(req.lines))
				if tc.cfg.MaxBatchBytes > 0 && len(req.lines) > 1 && len(strings.Join(req.lines, "\n")) > tc.cfg.MaxBatchBytes {
					t.Fatalf("batch of %d bytes over the cap", len(strings.Join(req.lines, "\n")))
				}
				got = append(got, traceIDs(t, testVerifier(t), req.lines)...)
			}
			if !slices.Equal(sizes, tc.wantSizes) {
				t.Errorf("batch sizes %v, want %v", sizes, tc.wantSizes)
			}
			if !slices.Equal(got, seqTraces(1, tc.n)) {
				t.Errorf("entries out of order or missing")
			}
		})
	}
}

// Each format is rendered as the destination asks and verifies.
func TestFormats(t *testing.T) {
	t.Parallel()
	for _, f := range []audit.Format{audit.FormatCEF, audit.FormatJSON, audit.FormatCPS} {
		t.Run(string(f), func(t *testing.T) {
			t.Parallel()
			st := newStore(t)
			dst := newRecorder()
			srv := httptest.NewServer(dst)
			defer srv.Close()
			h := addWebhook(t, st, srv.URL, f)
			m := startManager(t, st, managerOpts{})
			record(t, m, entries(h, 1, 2))
			req := dst.next(t)
			v := testVerifier(t)
			for _, l := range req.lines {
				if err := v.VerifyLine([]byte(l)); err != nil {
					t.Fatal(err)
				}
				isJSON := strings.HasPrefix(l, "{")
				if isJSON != (f != audit.FormatCEF) || strings.HasPrefix(l, `{"event":`) != (f == audit.FormatCPS) {
					t.Fatalf("line %q is not %s", l, f)
				}
			}
		})
	}
}

// The exact schedule of retries: 1s, 2s, 4s, 8s widened by the jitter,
// then the batch is recorded as failed and the cursor moves on.
func TestRetrySchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		retryAfter string
		wantWaits  []time.Duration
	}{
		{"5xx backs off exponentially with jitter", 503, "",
			[]time.Duration{1100 * time.Millisecond, 2200 * time.Millisecond, 4400 * time.Millisecond, 8800 * time.Millisecond}},
		{"429 honours Retry-After", 429, "7", []time.Duration{7 * time.Second, 7 * time.Second, 7 * time.Second, 7 * time.Second}},
		{"Retry-After is capped at the max wait", 429, "120", []time.Duration{30 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second}},
		{"Retry-After below the min wait is raised to it", 503, "0", []time.Duration{1100 * time.Millisecond, 2200 * time.Millisecond, 4400 * time.Millisecond, 8800 * time.Millisecond}},
		{"other 4xx is not retried", 400, "", nil},
		{"a redirect is not followed nor retried", 302, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := newStore(t)
			dst := newRecorder()
			dst.setAnswer(func(_ int, w http.ResponseWriter, _ *http.Request) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				if tc.status == 302 {
					w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
				}
				w.WriteHeader(tc.status)
			})
			srv := httptest.NewServer(dst)
			defer srv.Close()
			h := addWebhook(t, st, srv.URL, audit.FormatCEF)
			clk := clock.NewFake(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
			m := startManager(t, st, managerOpts{clock: clk,
				cfg: Config{Retry: RetryPolicy{Rand: func() float64 { return 0.5 }}}})

			created := clk.TimerCreated()
			record(t, m, entries(h, 1, 3))
			dst.next(t)
			for i, want := range tc.wantWaits {
				<-created
				if p := clk.Pending(); len(p) != 1 || p[0] != want {
					t.Fatalf("wait before retry %d: pending %v, want [%v]", i+1, p, want)
				}
				if s := state(t, st, h); s.Status != store.StatusInactive || s.LastResponseCode != tc.status || s.Cursor != 0 {
					t.Fatalf("while retrying: %+v", s)
				}
				created = clk.TimerCreated()
				clk.Advance(want)
				dst.next(t)
			}
			// After the last attempt the range is failed and the cursor moved.
			s := waitState(t, st, h, func(s store.WebhookState) bool { return s.Cursor == 3 })
			if !slices.Equal(s.FailedRanges, []store.SeqRange{{From: 1, To: 3}}) || s.Status != store.StatusInactive ||
				s.LastResponseCode != tc.status || !strings.HasPrefix(s.LastResponseMessage, strconv.Itoa(tc.status)) {
				t.Fatalf("after the last attempt: %+v", s)
			}
			// No retry is left: the one timer is the failed range's probe,
			// which sends once and then waits twice as long.
			waitPending(t, clk, probeMin)
			select {
			case r := <-dst.arrived:
				t.Fatalf("an extra attempt: %v", r.lines)
			default:
			}
			clk.Advance(probeMin)
			dst.next(t)
			waitPending(t, clk, 2*probeMin)
			if n := len(dst.arrived); n != 0 {
				t.Fatalf("%d extra attempts after the probe", n)
			}
		})
	}
}

// waitState polls the store until cond holds: the dispatcher writes the
// state after it answers the test's destination, so there is a short race.
func waitState(t testing.TB, st store.Store, h hook, cond func(store.WebhookState) bool) store.WebhookState {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := state(t, st, h)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("state never reached the condition: %+v", s)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
