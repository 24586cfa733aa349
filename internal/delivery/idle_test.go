package delivery

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// BenchmarkIdleWebhooks: 10,000 enabled webhooks (one per portal stream)
// and no traffic. Reports the CPU the process spends per idle second and
// how long loading the dispatchers took; then one entry to one of them.
func BenchmarkIdleWebhooks(b *testing.B) {
	const n = 10000
	st := newStore(b)
	dst := newRecorder()
	srv := httptest.NewServer(dst)
	defer srv.Close()
	h := addWebhook(b, st, srv.URL, audit.FormatCEF)
	ctx := context.Background()
	streams := make([]store.StreamID, n)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 { // concurrent writers share group commits
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 16 {
				id := uuid.Must(uuid.NewV7()).String()
				now := time.Now()
				p := store.Portal{ID: id, OrgID: h.org, Name: "p" + id, DisplayName: "p", DefaultDomain: fmt.Sprintf("p%d.example.com", i),
					DefaultAPIVisibility: "public", DefaultPageVisibility: "public", CreatedAt: now, UpdatedAt: now}
				if err := st.CreatePortal(ctx, p); err != nil {
					errs <- err
					return
				}
				if err := st.PutWebhook(ctx, store.Webhook{Stream: store.StreamID(id), OrgID: h.org, PortalID: id,
					DestinationID: h.dest.ID, Enabled: true, UpdatedAt: now}); err != nil {
					errs <- err
					return
				}
				streams[i] = store.StreamID(id)
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		m := startManager(b, st, managerOpts{})
		load := time.Since(start)
		if got := len(m.dispatchers()); got != n+1 {
			b.Fatalf("%d dispatchers, want %d", got, n+1)
		}
		time.Sleep(time.Second) // let start-up settle
		cpu0 := cpuTime()
		t0 := time.Now()
		time.Sleep(3 * time.Second)
		idle := cpuTime() - cpu0
		wall := time.Since(t0)
		e := entries(h, 1, 1)[0]
		e.Stream = streams[n/2]
		record(b, m, []store.NewEntry{e})
		dst.next(b)
		b.ReportMetric(float64(load.Milliseconds()), "load-ms")
		b.ReportMetric(100*idle.Seconds()/wall.Seconds(), "idle-cpu-%")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
