package server

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store/sqlite"
	"github.com/sigtrail/sigtrail/internal/testenv"
)

func TestPruneCoordinationRunsOnTheClock(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	start := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	if err := st.Heartbeat(t.Context(), "crashed", start); err != nil {
		t.Fatal(err)
	}
	if err := st.Heartbeat(t.Context(), "live", start.Add(365*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(start.Add(time.Minute))
	var logs testenv.LogBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	waited := clk.TimerCreated()
	go func() { done <- pruneCoordination(ctx, st, clk, log) }()
	left := func(want ...string) {
		t.Helper()
		live, err := st.LiveReplicas(t.Context(), start.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(live, ",") != strings.Join(want, ",") {
			t.Fatalf("replicas %v, want %v", live, want)
		}
	}
	// Pruned at once, but a minute after its expiry the crashed replica's
	// row is kept; then every pruneEvery until it is a day old.
	steps := []struct {
		advance time.Duration
		want    []string
	}{
		{0, []string{"crashed", "live"}},
		{pruneEvery, []string{"crashed", "live"}},
		{coordinationRetention - pruneEvery, []string{"live"}},
	}
	for i, s := range steps {
		if i > 0 {
			waited = clk.TimerCreated()
			clk.Advance(s.advance)
		}
		<-waited
		left(s.want...)
	}
	if got := logs.String(); !strings.Contains(got, "replicas=1") || !strings.Contains(got, "leases=0") {
		t.Fatalf("log %q does not say what was pruned", got)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("pruneCoordination returned %v, want context.Canceled", err)
	}
}
