package postgres

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/postgres/pgtest"
)

// BenchmarkAppend64 runs 64 concurrent appenders, one entry per call over
// 16 streams, against one store (group commit) or two stores on one
// database (two replicas). It reports entries/s and entries per commit.
func BenchmarkAppend64(b *testing.B) {
	for _, replicas := range []int{1, 2} {
		b.Run(fmt.Sprintf("replicas=%d", replicas), func(b *testing.B) {
			url := pgtest.URL(b)
			var ss []*Store
			for range replicas {
				ss = append(ss, openURL(b, url, Options{MaxConns: 8}))
			}
			const appenders, streams = 64, 16
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for w := range appenders {
				s := ss[w%replicas]
				wg.Go(func() {
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						st := store.StreamID(fmt.Sprint("stream-", i%streams))
						if _, err := s.Append(b.Context(), []store.NewEntry{testEntry(st, "t")}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			var commits int64
			for _, s := range ss {
				commits += s.w.commits.Load()
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "entries/s")
			b.ReportMetric(float64(b.N)/float64(max(commits, 1)), "entries/commit")
		})
	}
}
