package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
)

// readFile is Read answered by the query alone (what Read answered before
// the tail cache).
func readFile(t *testing.T, s *Store, stream store.StreamID, after int64, limit int) []store.StoredEntry {
	t.Helper()
	rows, err := s.readAfter.QueryContext(context.Background(), string(stream), after, limit)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.collectEntries(rows, store.EntryQuery{Stream: stream, AfterSeq: after, Limit: limit})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// cached reports whether Read of the range would be served from memory.
func cached(s *Store, stream store.StreamID, after int64, limit int) bool {
	_, _, ok := s.w.tail.read(stream, after, limit, s.opts.Clock.Now())
	return ok
}

// Whatever Read serves from the tail cache is what the query returns, for
// every start and limit, across appends of one entry and of many, on two
// interleaved streams.
func TestTailReadsEqualTheFile(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx := context.Background()
	a, b := store.StreamID("0192f0a4-0000-7000-8000-00000000000a"), store.StreamID("0192f0a4-0000-7000-8000-00000000000b")
	n := 0
	for _, size := range []int{1, 1, 3, 1, 7, 2, 1} {
		var es []store.NewEntry
		for range size {
			n++
			es = append(es, benchEntry(a, n), benchEntry(b, n))
		}
		if _, err := s.Append(ctx, es); err != nil {
			t.Fatal(err)
		}
	}
	served := 0
	for _, st := range []store.StreamID{a, b} {
		for after := int64(1); after <= int64(n); after++ {
			for _, limit := range []int{1, 2, 5, 1000} {
				if cached(s, st, after, limit) {
					served++
				}
				got, err := s.Read(ctx, st, after, limit)
				if err != nil {
					t.Fatal(err)
				}
				if want := readFile(t, s, st, after, limit); !reflect.DeepEqual(got, want) {
					t.Fatalf("%s after %d limit %d: cache and file differ\n%+v\n%+v", st, after, limit, got, want)
				}
			}
		}
	}
	if served == 0 {
		t.Fatal("no read was served from the tail cache")
	}
}

// A run ends where another handle (another process) appended: what the
// cache holds stays right, the entries the other one appended come from
// the file, and the first handle's next commit sees the change and starts
// over.
func TestTailAfterAnotherHandleAppended(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sigtrail.db")
	s1, s2 := openAt(t, path, Options{}), openAt(t, path, Options{})
	ctx := context.Background()
	st := store.StreamID("0192f0a4-0000-7000-8000-00000000000c")
	appendN := func(s *Store, from, n int) {
		t.Helper()
		var es []store.NewEntry
		for i := range n {
			es = append(es, benchEntry(st, from+i))
		}
		if _, err := s.Append(ctx, es); err != nil {
			t.Fatal(err)
		}
	}
	appendN(s1, 1, 3) // 1-3 by s1
	appendN(s2, 4, 2) // 4-5 by s2
	// s1's cache answers for 2-3 only; the rest is read from the file.
	got, err := s1.Read(ctx, st, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Seq != 2 || got[1].Seq != 3 {
		t.Fatalf("read after 1: %v, want 2-3 from the cache", seqs(got))
	}
	if got, err = s1.Read(ctx, st, 3, 10); err != nil || len(got) != 2 || got[0].Seq != 4 {
		t.Fatalf("read after 3: %v (%v), want 4-5 from the file", seqs(got), err)
	}
	appendN(s1, 6, 1) // 6 by s1: its position came from the file, its run starts over
	if cached(s1, st, 1, 10) || !cached(s1, st, 5, 10) {
		t.Fatal("the run did not start over at 6")
	}
	if got, err = s1.Read(ctx, st, 5, 10); err != nil || len(got) != 1 || got[0].Seq != 6 || got[0].Entry.TraceID != "6" {
		t.Fatalf("read after 5: %+v (%v)", got, err)
	}
}

// Retention and a stream's deletion empty the cache, so it never serves
// an entry the file no longer has; a run goes stale after tailMaxAge.
func TestTailForgetsDeletedEntries(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.UnixMilli(1_764_000_000_000 + 10).UTC())
	s := openTest(t, Options{Clock: clk})
	ctx := context.Background()
	st := store.StreamID("0192f0a4-0000-7000-8000-00000000000d")
	for i := 1; i <= 3; i++ {
		if _, err := s.Append(ctx, []store.NewEntry{benchEntry(st, i)}); err != nil {
			t.Fatal(err)
		}
	}
	if !cached(s, st, 1, 10) {
		t.Fatal("not cached")
	}
	// Entries 1 and 2 (times +1 ms and +2 ms) are older than the cutoff.
	n, err := s.DeleteBefore(ctx, time.UnixMilli(1_764_000_000_000+3).UTC(), 100)
	if err != nil || n != 2 {
		t.Fatalf("deleted %d (%v), want 2", n, err)
	}
	if cached(s, st, 1, 10) {
		t.Fatal("still cached after retention deleted entries")
	}
	if got, err := s.Read(ctx, st, 1, 10); err != nil || len(got) != 1 || got[0].Seq != 3 {
		t.Fatalf("read after 1: %v (%v), want 3", seqs(got), err)
	}
	if _, err := s.Append(ctx, []store.NewEntry{benchEntry(st, 4), benchEntry(st, 5)}); err != nil {
		t.Fatal(err)
	}
	if !cached(s, st, 4, 10) {
		t.Fatal("not cached after the next append")
	}
	clk.Advance(tailMaxAge + time.Millisecond)
	if cached(s, st, 4, 10) {
		t.Fatal("a stale run was served")
	}
}

func TestTailCacheBounds(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_764_000_000, 0)
	rec := func(n int) []byte { return []byte(fmt.Sprintf("%0*d", n, 0)) }
	rows := func(s store.StreamID, from, n, size int) []tailRow {
		var out []tailRow
		for i := range n {
			out = append(out, tailRow{stream: s, seq: int64(from + i), record: rec(size)})
		}
		return out
	}
	const appends = tailRunMax/tailAppendMax + 2
	var long [][]tailRow // more appends of tailAppendMax one-byte records than a run keeps
	for i := range appends {
		long = append(long, rows("a", 1+i*tailAppendMax, tailAppendMax, 1))
	}
	tests := []struct {
		name    string
		adds    [][]tailRow
		stream  store.StreamID
		after   int64
		limit   int
		first   int64 // 0: not served
		n       int
		maxHeld int
	}{
		{"contiguous appends make one run", [][]tailRow{rows("a", 1, 2, 10), rows("a", 3, 2, 10)}, "a", 1, 10, 2, 3, 40},
		{"the limit cuts", [][]tailRow{rows("a", 1, 5, 10)}, "a", 0, 2, 1, 2, 50},
		{"nothing after the run", [][]tailRow{rows("a", 1, 5, 10)}, "a", 5, 10, 0, 0, 50},
		{"before the run", [][]tailRow{rows("a", 4, 5, 10)}, "a", 2, 10, 0, 0, 50},
		{"a gap starts a new run", [][]tailRow{rows("a", 1, 2, 10), rows("a", 9, 2, 10)}, "a", 8, 10, 9, 2, 20},
		{"a large append ends the run", [][]tailRow{rows("a", 1, 2, 10), rows("a", 3, tailAppendMax+1, 10)}, "a", 1, 10, 0, 0, 0},
		{"a run keeps its newest tailRunMax", long, "a", int64(appends*tailAppendMax - tailRunMax), 10, int64(appends*tailAppendMax-tailRunMax) + 1, 10, tailRunMax},
		{"and forgets the older", long, "a", int64(appends*tailAppendMax-tailRunMax) - 1, 10, 0, 0, tailRunMax},
		{"the budget drops runs", [][]tailRow{rows("a", 1, 3, tailBudget/2), rows("b", 1, 3, tailBudget/2)}, "b", 1, 10, 2, 2, tailBudget},
		{"other streams are apart", [][]tailRow{rows("a", 1, 2, 10), rows("b", 1, 2, 10)}, "b", 1, 10, 2, 1, 40},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newTailCache()
			for _, a := range tc.adds {
				c.add(a, now)
			}
			recs, first, ok := c.read(tc.stream, tc.after, tc.limit, now)
			if ok != (tc.first != 0) || first != tc.first || len(recs) != tc.n {
				t.Fatalf("read: first %d, %d records, served %v; want first %d, %d records", first, len(recs), ok, tc.first, tc.n)
			}
			if c.held > tc.maxHeld {
				t.Fatalf("holds %d bytes, want at most %d", c.held, tc.maxHeld)
			}
			sum := 0
			for _, r := range c.runs {
				for _, rec := range r.recs {
					sum += len(rec)
				}
				if len(r.recs) > tailRunMax {
					t.Fatalf("a run of %d records", len(r.recs))
				}
			}
			if sum != c.held {
				t.Fatalf("held %d, runs hold %d", c.held, sum)
			}
		})
	}
}

func seqs(es []store.StoredEntry) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.Seq
	}
	return out
}
