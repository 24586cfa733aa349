package replay

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

// countingDeleter records how many entries each DeleteBefore call removed,
// around the real store.
type countingDeleter struct {
	Deleter
	mu    sync.Mutex
	calls []int
}

func (c *countingDeleter) DeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	n, err := c.Deleter.DeleteBefore(ctx, cutoff, limit)
	c.mu.Lock()
	c.calls = append(c.calls, n)
	c.mu.Unlock()
	return n, err
}

func count(t *testing.T, f *fixture) int64 {
	t.Helper()
	n, err := f.st.Count(context.Background(), store.EntryQuery{Stream: store.StreamID(f.org)})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSweepDeletesExpiredEntriesInSmallBatches(t *testing.T) {
	t.Parallel()
	f := newFixture(t, filepath.Join(t.TempDir(), "db"))
	f.appendAt(t, "old", times(t0.Add(-8*24*time.Hour), time.Second, 2550))
	f.appendAt(t, "edge", []time.Time{t0.Add(-DefaultRetention)}) // exactly at the cutoff: kept
	f.appendAt(t, "new", times(t0.Add(-6*24*time.Hour), time.Second, 10))

	d := &countingDeleter{Deleter: f.st}
	l := NewRetention(RetentionConfig{BatchSize: 100}, d, f.clk, nil)
	n, err := l.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != 2550 {
		t.Errorf("deleted %d, want 2550", n)
	}
	if left := count(t, f); left != 11 {
		t.Errorf("%d entries left, want 11", left)
	}
	if len(d.calls) != 26 {
		t.Errorf("%d delete calls, want 26 (25 full batches and a short one)", len(d.calls))
	}
	for _, c := range d.calls {
		if c > 100 {
			t.Fatalf("a call deleted %d entries, more than the batch size", c)
		}
	}
}

// Run keeps deleting as entries age, waking on the injected clock.
func TestRetentionRunDeletesAsEntriesAge(t *testing.T) {
	t.Parallel()
	f := newFixture(t, filepath.Join(t.TempDir(), "db"))
	f.appendAt(t, "old", times(t0.Add(-8*24*time.Hour), time.Second, 30))
	f.appendAt(t, "younger", times(t0.Add(-6*24*time.Hour), time.Second, 20))
	f.appendAt(t, "fresh", times(t0.Add(-time.Hour), time.Second, 5))

	clk := f.clk
	l := NewRetention(RetentionConfig{BatchSize: 7, Interval: time.Minute}, f.st, clk, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	waiting := clk.TimerCreated()
	go func() { done <- l.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	<-waiting // the first sweep is over and the loop waits
	if left := count(t, f); left != 25 {
		t.Fatalf("after the first sweep %d entries left, want 25", left)
	}
	waiting = clk.TimerCreated()
	clk.Advance(2 * 24 * time.Hour)
	<-waiting
	if left := count(t, f); left != 5 {
		t.Fatalf("two days later %d entries left, want 5", left)
	}
}
