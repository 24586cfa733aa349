package delivery

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
)

func asSendError(err error, target **SendError) bool { return errors.As(err, target) }

// SendBatch, for replays, splits by the caps, retries, and moves no cursor.
func TestSendBatch(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	dst := newRecorder()
	dst.setAnswer(func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 { // the second request fails once and is retried
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	srv := httptest.NewServer(dst)
	defer srv.Close()
	h := addWebhook(t, st, srv.URL, audit.FormatCEF)
	ctx := context.Background()
	if _, err := st.Append(ctx, entries(h, 1, 5)); err != nil {
		t.Fatal(err)
	}
	stored, err := st.Read(ctx, h.stream, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Now())
	autoAdvance(t, clk)
	reg := prometheus.NewRegistry()
	m, err := New(Config{MaxBatchLines: 2, InsecureDestinations: true},
		Deps{Store: st, Signer: testSigner(), Clock: clk, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SendBatch(ctx, h.dest, stored); err != nil {
		t.Fatal(err)
	}
	var got []string
	var sizes []int
	for range 4 { // 2, 2 (failed), 2 (retry), 1
		req := dst.next(t)
		sizes = append(sizes, len(req.lines))
		got = append(got, traceIDs(t, testVerifier(t), req.lines)...)
	}
	if !slices.Equal(sizes, []int{2, 2, 2, 1}) || !slices.Equal(got, []string{"t1", "t2", "t3", "t4", "t3", "t4", "t5"}) {
		t.Fatalf("sizes %v lines %v", sizes, got)
	}
	if s := state(t, st, h); s.Cursor != 0 || !s.LastAttemptAt.IsZero() {
		t.Fatalf("SendBatch touched the webhook state: %+v", s)
	}
	if v := counterValue(t, reg, "sigtrail_delivery_retries_total", ""); v != 1 {
		t.Fatalf("retries_total %v, want 1", v)
	}

	dst.setAnswer(func(int, http.ResponseWriter, *http.Request) {}) // unreachable now
	srv.Close()
	err = m.SendBatch(ctx, h.dest, stored[:1])
	var se *SendError
	if !errors.As(err, &se) || se.Status != 0 {
		t.Fatalf("dead destination: %v", err)
	}
	if v := counterValue(t, reg, "sigtrail_delivery_attempts_total", "connection_error"); v != 5 {
		t.Fatalf("connection errors counted %v, want 5", v)
	}
}
