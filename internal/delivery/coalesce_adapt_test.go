package delivery

import (
	"slices"
	"testing"
	"time"
)

func TestCoalescerAdapts(t *testing.T) {
	t.Parallel()
	const bound = 20 * time.Millisecond
	tests := []struct {
		name  string
		bound time.Duration
		start time.Duration
		n     []int // sizes of successive batches that were not full
		want  time.Duration
	}{
		{"starts at the bound", bound, -1, nil, bound},
		{"lone entries keep the bound", bound, -1, []int{1, 1, 1}, bound},
		{"batches of the target halve it", bound, -1, []int{coalesceTarget}, bound / 2},
		{"large batches too", bound, -1, []int{2 * coalesceTarget, 50}, bound / 4},
		{"one short of the target doubles it", bound, 5 * time.Millisecond, []int{coalesceTarget - 1}, 10 * time.Millisecond},
		{"down to none", bound, -1, []int{100, 100, 100, 100, 100, 100}, 0},
		{"small batches grow it from none", bound, 0, []int{1}, coalesceStep},
		{"and double it", bound, 0, []int{1, 1, 1}, 4 * coalesceStep},
		{"never past the bound", bound, bound / 2, []int{1, 1}, bound},
		{"turned off", -1, -1, []int{1, 1}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCoalescer(tc.bound)
			if tc.start >= 0 {
				c.wait = tc.start
			}
			for _, n := range tc.n {
				c.sent(n)
			}
			if c.wait != tc.want {
				t.Errorf("wait %v, want %v", c.wait, tc.want)
			}
		})
	}
}

// The dispatcher's wait follows the batches: it halves after batches that
// came large on their own (a busy stream gains nothing from waiting) and
// grows again while entries trickle in one by one.
func TestCoalesceWaitFollowsTheBatches(t *testing.T) {
	t.Parallel()
	const bound = 8 * time.Millisecond
	c := newCoalescing(t, Config{CoalesceWait: bound})
	rc, h, clk, m := c.rc, c.h, c.clk, c.m

	seq := 2 // t1 went at once (newCoalescing)
	for _, step := range []struct {
		n    int
		wait time.Duration // the wait before this batch leaves
	}{
		{20, bound},     // 20 entries: the wait halves
		{20, bound / 2}, // and again
		{1, bound / 4},  // one entry: it doubles
		{1, bound / 2},
	} {
		record(t, m, entries(h, seq, step.n))
		waitTimer(t, clk, step.wait)
		clk.Advance(step.wait)
		if got := traceIDs(t, testVerifier(t), rc.next(t).lines); !slices.Equal(got, seqTraces(seq, seq+step.n-1)) {
			t.Fatalf("after a wait of %v: %v, want t%d..t%d", step.wait, got, seq, seq+step.n-1)
		}
		seq += step.n
	}
}
