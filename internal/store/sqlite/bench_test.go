package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// benchEntry is a typical authentication entry, about the size of a real
// Dev Portal login record.
func benchEntry(stream store.StreamID, i int) store.NewEntry {
	return store.NewEntry{Stream: stream, Entry: audit.Entry{
		Kind:        audit.KindAuthentication,
		Time:        time.UnixMilli(1_764_000_000_000 + int64(i)).UTC(),
		Product:     audit.ProductDevPortal,
		ClassID:     audit.AuthTypeBasic,
		Name:        string(audit.OutcomeSuccess),
		Src:         "203.0.113.7",
		OrgID:       "0192f0a4-1c2b-7d3e-8f40-5a6b7c8d9e0f",
		PortalID:    string(stream),
		PrincipalID: "0192f0a4-1c2b-7d3e-8f40-000000000001",
		TraceID:     strconv.Itoa(i),
		UserAgent:   "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
		Request:     "/api/v2/developer/authenticate",
	}}
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func openBench(b *testing.B, opts Options) *Store {
	b.Helper()
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.sqlite"), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// benchAppend runs b.N entries through workers goroutines, each appending
// per entries at a time to one of streams streams, and reports entries/s.
func benchAppend(b *testing.B, opts Options, workers, per, streams int) {
	s := openBench(b, opts)
	ctx := context.Background()
	commits0 := s.w.commits.Load()
	cpu0 := cpuTime(b)
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := store.StreamID(fmt.Sprintf("stream-%d", w%streams))
			batch := make([]store.NewEntry, per)
			for {
				n := int(next.Add(int64(per)))
				if n-per >= b.N {
					return
				}
				for i := range batch {
					batch[i] = benchEntry(stream, n-per+i)
				}
				if _, err := s.Append(ctx, batch); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	done := (int64(b.N) + int64(per) - 1) / int64(per) * int64(per)
	b.ReportMetric(float64(done)/elapsed.Seconds(), "entries/s")
	b.ReportMetric(float64(done)/float64(s.w.commits.Load()-commits0), "entries/commit")
	// CPU per entry (whole process, user+system) tells what the machine
	// could reach if other work did not share its cores.
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(done), "cpu-µs/entry")
}

// BenchmarkAppendConcurrent64 is 64 producers each appending one entry at
// a time, durably: the shape of many concurrent logins and API requests.
func BenchmarkAppendConcurrent64(b *testing.B) {
	benchAppend(b, benchOptions(b), 64, 1, 8)
}

// benchOptions reads SIGTRAIL_BENCH_PAGE_SIZE, for comparing page sizes.
func benchOptions(b *testing.B) Options {
	b.Helper()
	var o Options
	if v := os.Getenv("SIGTRAIL_BENCH_PAGE_SIZE"); v != "" {
		if _, err := fmt.Sscan(v, &o.PageSize); err != nil {
			b.Fatal(err)
		}
	}
	return o
}

// BenchmarkAppendBatch is 4 producers appending 100 entries per call: the
// ingest API's shape.
func BenchmarkAppendBatch(b *testing.B) {
	benchAppend(b, benchOptions(b), 4, 100, 4)
}

// BenchmarkCommitFrames commits 64 entries spread over 8 streams per
// transaction and reports how many WAL frames (pages) each commit writes:
// the I/O a commit costs, which the schema decides.
func BenchmarkCommitFrames(b *testing.B) {
	path := filepath.Join(b.TempDir(), "frames.sqlite")
	s, err := Open(context.Background(), path, benchOptions(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	// Without checkpoints the WAL only grows, so its size counts frames.
	if err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		_, err := q.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 0")
		return err
	}); err != nil {
		b.Fatal(err)
	}
	var pageSize int64
	if err := s.rdb.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		b.Fatal(err)
	}
	batch := make([]store.NewEntry, 64)
	i := 0
	fill := func() {
		for k := range batch {
			batch[k] = benchEntry(store.StreamID(fmt.Sprintf("stream-%d", k%8)), i)
			i++
		}
	}
	for range 100 { // warm up: past the first, cheap page splits
		fill()
		if _, err := s.Append(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	walSize := func() int64 {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			b.Fatal(err)
		}
		return fi.Size()
	}
	start := walSize()
	b.ResetTimer()
	for range b.N {
		fill()
		if _, err := s.Append(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(walSize()-start)/float64(pageSize+24)/float64(b.N), "frames/commit")
}

// BenchmarkRead1000 reads batches of 1,000 entries after a cursor, as a
// dispatcher does, from a stream of 100,000.
func BenchmarkRead1000(b *testing.B) {
	s := openBench(b, Options{})
	ctx := context.Background()
	const total = 100_000
	batch := make([]store.NewEntry, 1000)
	for i := 0; i < total; i += len(batch) {
		for k := range batch {
			batch[k] = benchEntry("stream", i+k)
		}
		if _, err := s.Append(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	var after int64
	for range b.N {
		got, err := s.Read(ctx, "stream", after, 1000)
		if err != nil || len(got) != 1000 {
			b.Fatalf("Read = %d, %v", len(got), err)
		}
		after = (after + 1000) % total
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkAppendLone appends one entry at a time from one goroutine: the
// latency of a lone login, one durable commit per op.
func BenchmarkAppendLone(b *testing.B) {
	s := openBench(b, Options{})
	ctx := context.Background()
	in := make([]store.NewEntry, 1)
	b.ResetTimer()
	for i := range b.N {
		in[0] = benchEntry("stream", i)
		if _, err := s.Append(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQueryWindow is the pull API's read: the newest 100 entries of
// one stream in a one-hour window, and their count, over 8 streams holding
// 200,000 entries spread across two days.
func BenchmarkQueryWindow(b *testing.B) {
	s := openBench(b, Options{})
	ctx := context.Background()
	const total, streams = 200_000, 8
	span := 48 * time.Hour
	t0 := time.UnixMilli(1_764_000_000_000).UTC()
	batch := make([]store.NewEntry, 1000)
	for i := 0; i < total; i += len(batch) {
		for k := range batch {
			n := i + k
			e := benchEntry(store.StreamID(fmt.Sprintf("stream-%d", n%streams)), n)
			e.Entry.Time = t0.Add(time.Duration(n) * (span / total))
			batch[k] = e
		}
		if _, err := s.Append(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	q := store.EntryQuery{Stream: "stream-3", From: t0.Add(20 * time.Hour), To: t0.Add(21 * time.Hour), Limit: 100, Desc: true}
	b.ResetTimer()
	for range b.N {
		got, err := s.Query(ctx, q)
		if err != nil || len(got) != 100 {
			b.Fatalf("Query = %d, %v", len(got), err)
		}
		n, err := s.Count(ctx, q)
		if err != nil || n < 100 {
			b.Fatalf("Count = %d, %v", n, err)
		}
	}
}

// BenchmarkDeleteBefore measures retention: deleting entries older than a
// cutoff in calls of 1,000, from 8 streams spread over two days.
func BenchmarkDeleteBefore(b *testing.B) {
	ctx := context.Background()
	t0 := time.UnixMilli(1_764_000_000_000).UTC()
	const per = 100_000
	var deleted int
	var elapsed time.Duration
	for range b.N {
		b.StopTimer()
		s := openBench(b, Options{})
		batch := make([]store.NewEntry, 1000)
		for i := 0; i < per; i += len(batch) {
			for k := range batch {
				n := i + k
				e := benchEntry(store.StreamID(fmt.Sprintf("stream-%d", n%8)), n)
				e.Entry.Time = t0.Add(time.Duration(n) * (48 * time.Hour / per))
				batch[k] = e
			}
			if _, err := s.Append(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		start := time.Now()
		for {
			n, err := s.DeleteBefore(ctx, t0.Add(24*time.Hour), 1000)
			if err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				break
			}
			deleted += n
		}
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(deleted)/elapsed.Seconds(), "deleted/s")
}

// BenchmarkAppendConcurrent16 is 16 producers of one entry each on one
// stream: the store's side of `sigtrail bench --batch 1 --concurrency 16`.
func BenchmarkAppendConcurrent16(b *testing.B) {
	benchAppend(b, benchOptions(b), 16, 1, 1)
}
