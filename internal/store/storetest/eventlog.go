package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

func testEventLog(t *testing.T, b Backend) {
	open := b.Open
	t.Run("AppendAssignsDenseSeqsPerStreamAndReadsBack", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		a, b := store.StreamID(newID(t)), store.StreamID(newID(t))
		in := []store.NewEntry{
			entry(a, audit.KindAuthentication, at(0), "a1"),
			entry(b, audit.KindAuthorization, at(1*time.Millisecond), "b1"),
			entry(a, audit.KindAccess, at(2*time.Millisecond), "a2"),
			entry(a, audit.KindAuthorization, at(3*time.Millisecond), "a3"),
		}
		seqs, err := s.Append(ctxT(t), in)
		must(t, err, "Append")
		if want := []int64{1, 1, 2, 3}; !slices.Equal(seqs, want) {
			t.Fatalf("seqs = %v, want %v", seqs, want)
		}
		seqs, err = s.Append(ctxT(t), []store.NewEntry{entry(b, audit.KindAccess, at(4*time.Millisecond), "b2")})
		must(t, err, "Append")
		if !slices.Equal(seqs, []int64{2}) {
			t.Fatalf("second append seqs = %v, want [2]", seqs)
		}
		got, err := s.Read(ctxT(t), a, 0, 10)
		must(t, err, "Read")
		if len(got) != 3 {
			t.Fatalf("Read returned %d entries, want 3", len(got))
		}
		for i, w := range []store.NewEntry{in[0], in[2], in[3]} {
			if got[i].Stream != a || got[i].Seq != int64(i+1) {
				t.Errorf("entry %d is %s/%d, want %s/%d", i, got[i].Stream, got[i].Seq, a, i+1)
			}
			if !same(got[i].Entry, w.Entry) {
				t.Errorf("entry %d = %+v, want %+v", i, got[i].Entry, w.Entry)
			}
		}
		if got, _ := s.LastSeq(ctxT(t), b); got != 2 {
			t.Errorf("LastSeq(b) = %d, want 2", got)
		}
		if got, _ := s.LastSeq(ctxT(t), store.StreamID(newID(t))); got != 0 {
			t.Errorf("LastSeq(unknown) = %d, want 0", got)
		}
		if seqs, err := s.Append(ctxT(t), nil); err != nil || len(seqs) != 0 {
			t.Errorf("Append(nil) = %v, %v; want nothing", seqs, err)
		}
	})

	t.Run("AppendRefusesAnEntryWithoutStream", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		a := store.StreamID(newID(t))
		_, err := s.Append(ctxT(t), []store.NewEntry{entry(a, audit.KindAccess, at(0), "ok"), entry("", audit.KindAccess, at(0), "bad")})
		if err == nil {
			t.Fatal("Append accepted an entry without a stream")
		}
		if n, _ := s.LastSeq(ctxT(t), a); n != 0 {
			t.Fatalf("a refused Append stored entries: LastSeq = %d", n)
		}
	})

	t.Run("ReadAfterAndLimit", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		st := appendN(t, s, 10, time.Second)
		cases := []struct {
			after int64
			limit int
			want  []int64
		}{
			{0, 3, []int64{1, 2, 3}},
			{3, 3, []int64{4, 5, 6}},
			{8, 5, []int64{9, 10}},
			{10, 5, []int64{}},
			{0, 0, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		}
		for _, c := range cases {
			got, err := s.Read(ctxT(t), st, c.after, c.limit)
			must(t, err, "Read")
			if !slices.Equal(seqsOf(got), c.want) {
				t.Errorf("Read(after %d, limit %d) = %v, want %v", c.after, c.limit, seqsOf(got), c.want)
			}
		}
	})

	t.Run("QueryAndCount", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		st := store.StreamID(newID(t))
		other := store.StreamID(newID(t))
		kinds := []audit.Kind{audit.KindAuthentication, audit.KindAuthorization, audit.KindAccess}
		var in []store.NewEntry
		for i := range 9 { // seq i+1 at base+i s, kinds cycling
			in = append(in, entry(st, kinds[i%3], at(time.Duration(i)*time.Second), fmt.Sprint(i)))
			in = append(in, entry(other, kinds[i%3], at(time.Duration(i)*time.Second), fmt.Sprint(i)))
		}
		_, err := s.Append(ctxT(t), in)
		must(t, err, "Append")
		sec := func(i int) time.Time { return at(time.Duration(i) * time.Second) }
		cases := []struct {
			name string
			q    store.EntryQuery
			want []int64
		}{
			{"all", store.EntryQuery{}, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9}},
			{"inclusive time bounds", store.EntryQuery{From: sec(2), To: sec(4)}, []int64{3, 4, 5}},
			{"from only", store.EntryQuery{From: sec(7)}, []int64{8, 9}},
			{"to only", store.EntryQuery{To: sec(1)}, []int64{1, 2}},
			{"bound between milliseconds", store.EntryQuery{From: sec(2).Add(time.Microsecond), To: sec(4).Add(-time.Microsecond)}, []int64{4}},
			{"one kind", store.EntryQuery{Kinds: []audit.Kind{audit.KindAccess}}, []int64{3, 6, 9}},
			{"two kinds", store.EntryQuery{Kinds: []audit.Kind{audit.KindAuthentication, audit.KindAccess}}, []int64{1, 3, 4, 6, 7, 9}},
			{"after seq", store.EntryQuery{AfterSeq: 6}, []int64{7, 8, 9}},
			{"before seq", store.EntryQuery{BeforeSeq: 3}, []int64{1, 2}},
			{"after and before", store.EntryQuery{AfterSeq: 2, BeforeSeq: 6}, []int64{3, 4, 5}},
			{"limit", store.EntryQuery{Limit: 4}, []int64{1, 2, 3, 4}},
			{"desc", store.EntryQuery{Desc: true, Limit: 3}, []int64{9, 8, 7}},
			{"desc before seq", store.EntryQuery{Desc: true, BeforeSeq: 5, Limit: 2}, []int64{4, 3}},
			{"everything", store.EntryQuery{From: sec(1), To: sec(8), Kinds: []audit.Kind{audit.KindAuthorization}, AfterSeq: 2, Desc: true}, []int64{8, 5}},
			{"nothing in window", store.EntryQuery{From: sec(20)}, []int64{}},
		}
		for _, c := range cases {
			q := c.q
			q.Stream = st
			got, err := s.Query(ctxT(t), q)
			must(t, err, "Query "+c.name)
			if !slices.Equal(seqsOf(got), c.want) {
				t.Errorf("%s: Query = %v, want %v", c.name, seqsOf(got), c.want)
			}
			for _, e := range got {
				if e.Stream != st {
					t.Errorf("%s: entry of stream %s", c.name, e.Stream)
				}
			}
			q.Limit = 0
			all, err := s.Query(ctxT(t), q)
			must(t, err, "Query "+c.name)
			n, err := s.Count(ctxT(t), q)
			must(t, err, "Count "+c.name)
			if n != int64(len(all)) {
				t.Errorf("%s: Count = %d, want %d", c.name, n, len(all))
			}
		}
	})

	t.Run("TimesOutOfSeqOrder", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		st := store.StreamID(newID(t))
		// Producers may send old or future times: time order is not seq order.
		times := []time.Duration{10 * time.Minute, -30 * 24 * time.Hour, 5 * time.Hour, time.Minute, 3 * time.Hour, -2 * time.Hour, 26 * time.Hour}
		var in []store.NewEntry
		for i, d := range times {
			in = append(in, entry(st, audit.KindAccess, at(d), fmt.Sprint(i)))
		}
		_, err := s.Append(ctxT(t), in)
		must(t, err, "Append")
		cases := []struct {
			name     string
			from, to time.Duration
			want     []int64
		}{
			{"first hour", 0, time.Hour, []int64{1, 4}},
			{"exact instant", time.Minute, time.Minute, []int64{4}},
			{"hours 2 to 6", 2 * time.Hour, 6 * time.Hour, []int64{3, 5}},
			{"a month back", -31 * 24 * time.Hour, -29 * 24 * time.Hour, []int64{2}},
			{"around the base", -3 * time.Hour, time.Hour, []int64{1, 4, 6}},
			{"everything", -60 * 24 * time.Hour, 60 * 24 * time.Hour, []int64{1, 2, 3, 4, 5, 6, 7}},
			{"empty hours", 7 * time.Hour, 20 * time.Hour, []int64{}},
		}
		for _, c := range cases {
			q := store.EntryQuery{Stream: st, From: at(c.from), To: at(c.to)}
			got, err := s.Query(ctxT(t), q)
			must(t, err, "Query")
			if !slices.Equal(seqsOf(got), c.want) {
				t.Errorf("%s: Query = %v, want %v", c.name, seqsOf(got), c.want)
			}
			if n, _ := s.Count(ctxT(t), q); n != int64(len(c.want)) {
				t.Errorf("%s: Count = %d, want %d", c.name, n, len(c.want))
			}
		}
		// Retention by time, whatever the order: older than base+2h goes.
		total := 0
		for {
			n, err := s.DeleteBefore(ctxT(t), at(2*time.Hour), 2)
			must(t, err, "DeleteBefore")
			if n == 0 {
				break
			}
			total += n
		}
		got, err := s.Read(ctxT(t), st, 0, 0)
		must(t, err, "Read")
		if total != 4 || !slices.Equal(seqsOf(got), []int64{3, 5, 7}) {
			t.Fatalf("after retention: deleted %d, left %v; want 4 deleted, [3 5 7] left", total, seqsOf(got))
		}
		got, err = s.Query(ctxT(t), store.EntryQuery{Stream: st, From: at(-time.Hour), To: at(4 * time.Hour)})
		must(t, err, "Query")
		if !slices.Equal(seqsOf(got), []int64{5}) {
			t.Fatalf("Query after retention = %v, want [5]", seqsOf(got))
		}
	})

	t.Run("DeleteBeforeAcrossManyHours", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		a := appendN(t, s, 600, 37*time.Minute) // one entry every 37 minutes: about 15 days
		b := appendN(t, s, 300, time.Hour)
		cutoff := at(250*time.Hour + 30*time.Minute)
		var wantA, wantB []int64 // what must remain
		for i := range 600 {
			if !at(time.Duration(i) * 37 * time.Minute).Before(cutoff) {
				wantA = append(wantA, int64(i+1))
			}
		}
		for i := range 300 {
			if !at(time.Duration(i) * time.Hour).Before(cutoff) {
				wantB = append(wantB, int64(i+1))
			}
		}
		calls, total, short := 0, 0, false
		for {
			n, err := s.DeleteBefore(ctxT(t), cutoff, 100)
			must(t, err, "DeleteBefore")
			if n > 100 {
				t.Fatalf("DeleteBefore deleted %d, limit 100", n)
			}
			if n == 0 {
				break
			}
			// Callers stop at a short batch: it must mean nothing older is left.
			if short {
				t.Fatalf("DeleteBefore deleted %d after a short batch", n)
			}
			short = n < 100
			total, calls = total+n, calls+1
		}
		if want := 900 - len(wantA) - len(wantB); total != want {
			t.Fatalf("deleted %d in %d calls, want %d", total, calls, want)
		}
		for st, want := range map[store.StreamID][]int64{a: wantA, b: wantB} {
			got, err := s.Read(ctxT(t), st, 0, 0)
			must(t, err, "Read")
			if !slices.Equal(seqsOf(got), want) {
				t.Fatalf("left %d entries (%v...), want %d from seq %d", len(got), seqsOf(got)[:min(3, len(got))], len(want), want[0])
			}
		}
	})

	t.Run("ConcurrentAppendsAreDenseAndOrdered", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		streams := []store.StreamID{store.StreamID(newID(t)), store.StreamID(newID(t)), store.StreamID(newID(t))}
		const workers, rounds = 24, 20
		type ack struct {
			stream store.StreamID
			seq    int64
			trace  string
		}
		acks := make(chan ack, workers*rounds*4)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				seen := map[store.StreamID]int64{} // this worker's last seq per stream
				for r := range rounds {
					n := 1 + (w+r)%4 // 1 to 4 entries over 3 streams: some calls hit a stream twice
					var batch []store.NewEntry
					for i := range n {
						st := streams[(w+r+i)%len(streams)]
						batch = append(batch, entry(st, audit.KindAccess, at(time.Duration(r)*time.Millisecond), fmt.Sprintf("%d-%d-%d", w, r, i)))
					}
					seqs, err := s.Append(ctxT(t), batch)
					if err != nil {
						t.Errorf("Append: %v", err)
						return
					}
					// Read-your-writes: what Append acknowledged is readable now.
					for i, seq := range seqs {
						if seq <= seen[batch[i].Stream] {
							t.Errorf("%s: seq %d after %d: not increasing", batch[i].Stream, seq, seen[batch[i].Stream])
						}
						seen[batch[i].Stream] = seq
						got, err := s.Read(ctxT(t), batch[i].Stream, seq-1, 1)
						if err != nil || len(got) != 1 || got[0].Entry.TraceID != batch[i].Entry.TraceID {
							t.Errorf("Read right after Append of %s/%d: %v %v", batch[i].Stream, seq, got, err)
						}
						acks <- ack{batch[i].Stream, seq, batch[i].Entry.TraceID}
					}
				}
			}()
		}
		wg.Wait()
		close(acks)
		byStream := map[store.StreamID]map[int64]string{}
		for a := range acks {
			if byStream[a.stream] == nil {
				byStream[a.stream] = map[int64]string{}
			}
			if prev, dup := byStream[a.stream][a.seq]; dup {
				t.Fatalf("seq %d of %s given twice (%s and %s)", a.seq, a.stream, prev, a.trace)
			}
			byStream[a.stream][a.seq] = a.trace
		}
		for _, st := range streams {
			got, err := s.Read(ctxT(t), st, 0, 0)
			must(t, err, "Read")
			want := byStream[st]
			if len(got) != len(want) {
				t.Fatalf("%s holds %d entries, %d were acknowledged", st, len(got), len(want))
			}
			for i, e := range got {
				if e.Seq != int64(i+1) {
					t.Fatalf("%s: entry %d has seq %d: not dense", st, i, e.Seq)
				}
				if want[e.Seq] != e.Entry.TraceID {
					t.Fatalf("%s/%d holds %q, Append acknowledged %q", st, e.Seq, e.Entry.TraceID, want[e.Seq])
				}
			}
			if last, _ := s.LastSeq(ctxT(t), st); last != int64(len(want)) {
				t.Fatalf("LastSeq(%s) = %d, want %d", st, last, len(want))
			}
		}
	})

	t.Run("DeleteBeforeInSmallBatches", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		a := appendN(t, s, 10, time.Minute) // base+0 .. base+9m
		b := appendN(t, s, 4, time.Minute)  // base+0 .. base+3m
		cutoff := at(5 * time.Minute)       // older: a 1-5, b 1-4
		total := 0
		for {
			n, err := s.DeleteBefore(ctxT(t), cutoff, 3)
			must(t, err, "DeleteBefore")
			if n > 3 {
				t.Fatalf("DeleteBefore deleted %d, limit 3", n)
			}
			if n == 0 {
				break
			}
			total += n
		}
		if total != 9 {
			t.Fatalf("deleted %d entries, want 9", total)
		}
		got, err := s.Read(ctxT(t), a, 0, 0)
		must(t, err, "Read")
		if !slices.Equal(seqsOf(got), []int64{6, 7, 8, 9, 10}) {
			t.Fatalf("left in a: %v", seqsOf(got))
		}
		if got, _ := s.Read(ctxT(t), b, 0, 0); len(got) != 0 {
			t.Fatalf("left in b: %v", seqsOf(got))
		}
		// Retention never lowers a stream's numbering.
		for st, want := range map[store.StreamID]int64{a: 10, b: 4} {
			if last, _ := s.LastSeq(ctxT(t), st); last != want {
				t.Errorf("LastSeq after retention = %d, want %d", last, want)
			}
		}
		seqs, err := s.Append(ctxT(t), []store.NewEntry{entry(b, audit.KindAccess, at(time.Hour), "new")})
		must(t, err, "Append")
		if seqs[0] != 5 {
			t.Fatalf("append after retention got seq %d, want 5", seqs[0])
		}
		if n, _ := s.DeleteBefore(ctxT(t), cutoff, 0); n != 0 {
			t.Fatalf("DeleteBefore with limit 0 deleted %d", n)
		}
	})
	testEventLogTwoHandles(t, b)
	testRetentionTwoHandles(t, b)
}

// appendN appends n access entries to a new stream, step apart from base,
// and returns the stream.
func appendN(t *testing.T, s store.Store, n int, step time.Duration) store.StreamID {
	t.Helper()
	st := store.StreamID(newID(t))
	var in []store.NewEntry
	for i := range n {
		in = append(in, entry(st, audit.KindAccess, at(time.Duration(i)*step), fmt.Sprint(i)))
	}
	_, err := s.Append(ctxT(t), in)
	must(t, err, "Append")
	return st
}
