package replay

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

// countingDeleter records how many entries each DeleteBefore call removed,
// around the real store.
type countingDeleter struct {
	RetentionStore
	mu    sync.Mutex
	calls []int
}

func (c *countingDeleter) DeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	n, err := c.RetentionStore.DeleteBefore(ctx, cutoff, limit)
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

	d := &countingDeleter{RetentionStore: f.st}
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

// claimSpy announces every periodic claim its loop makes, and its answer.
type claimSpy struct {
	RetentionStore
	name   string
	claims chan<- string // name, or name+"!" for a claim that won
}

func (c claimSpy) ClaimPeriodic(ctx context.Context, task string, now time.Time, every time.Duration) (bool, error) {
	ok, err := c.RetentionStore.ClaimPeriodic(ctx, task, now, every)
	if ok {
		c.claims <- c.name + "!"
	} else {
		c.claims <- c.name
	}
	return ok, err
}

// Two replicas' retention loops on one database (two handles, one file)
// sweep once per interval between them, and when the sweeping one stops the
// other takes over at the next interval.
func TestRetentionSweepsOncePerIntervalAcrossReplicas(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "db")
	f := newFixture(t, path)
	other := openStore(t, path)
	const interval = time.Minute
	claims := make(chan string, 4)
	cfg := RetentionConfig{BatchSize: 1000, Interval: interval}
	start := func(name string, st RetentionStore) func() {
		l := NewRetention(cfg, claimSpy{RetentionStore: st, name: name, claims: claims}, f.clk, nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- l.Run(ctx) }()
		stop := func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run %s: %v", name, err)
			}
		}
		t.Cleanup(func() {
			if ctx.Err() == nil {
				stop()
			}
		})
		return stop
	}
	// round collects one claim per running loop, then waits until every
	// loop waits on its timer again, so the next Advance fires them all.
	round := func(loops int) (winners []string) {
		t.Helper()
		for range loops {
			if c := <-claims; strings.HasSuffix(c, "!") {
				winners = append(winners, c)
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for len(f.clk.Pending()) != loops {
			if time.Now().After(deadline) {
				t.Fatalf("%d loops waiting, want %d", len(f.clk.Pending()), loops)
			}
			time.Sleep(time.Millisecond)
		}
		return winners
	}

	f.appendAt(t, "old", times(t0.Add(-8*24*time.Hour), time.Second, 30))
	f.appendAt(t, "younger", times(t0.Add(-DefaultRetention+30*time.Second), time.Second, 20))
	stopA := start("a", f.st)
	start("b", other)
	if w := round(2); len(w) != 1 {
		t.Fatalf("first interval: winners %v, want exactly one", w)
	}
	if left := count(t, f); left != 20 {
		t.Fatalf("after the first interval %d entries left, want 20", left)
	}
	for i := range 3 {
		f.clk.Advance(interval)
		if w := round(2); len(w) != 1 {
			t.Fatalf("interval %d: winners %v, want exactly one", i+2, w)
		}
	}
	if left := count(t, f); left != 0 {
		t.Fatalf("%d entries left once all aged, want 0", left)
	}

	// A replica stops: the other sweeps every interval on its own.
	stopA()
	f.appendAt(t, "later", times(t0.Add(-DefaultRetention+4*interval), time.Second, 10))
	for i := range 2 {
		f.clk.Advance(interval)
		if w := round(1); len(w) != 1 || w[0] != "b!" {
			t.Fatalf("interval %d after a stopped: winners %v, want b", i+1, w)
		}
	}
	if left := count(t, f); left != 0 {
		t.Fatalf("%d entries left after b swept alone, want 0", left)
	}
}
