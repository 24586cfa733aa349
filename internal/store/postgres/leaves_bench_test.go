package postgres

import (
	"fmt"
	"testing"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/postgres/pgtest"
)

// BenchmarkLeafBytes appends b.N entries (1,000 an append, one stream) and
// reports what the leaves table and its index take on disk per entry
// (pg_total_relation_size after VACUUM), next to the entries table: run
// with -benchtime=1000000x for the cost per million entries.
func BenchmarkLeafBytes(b *testing.B) {
	s := openURL(b, pgtest.URL(b), Options{MaxConns: 4})
	st := store.StreamID("0192f0a4-1c2b-7d3e-8f40-5a6b7c8d9e0f")
	batch := make([]store.NewEntry, 0, 1000)
	for i := 0; i < b.N; i++ {
		batch = append(batch, testEntry(st, fmt.Sprint(i)))
		if len(batch) == cap(batch) || i == b.N-1 {
			if _, err := s.Append(b.Context(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if _, err := s.pool.Exec(b.Context(), "VACUUM leaves, entries"); err != nil {
		b.Fatal(err)
	}
	size := func(table string) float64 {
		var n int64
		if err := s.pool.QueryRow(b.Context(), "SELECT pg_total_relation_size($1)", table).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return float64(n)
	}
	b.ReportMetric(size("leaves")/float64(b.N), "leaf-bytes/entry")
	b.ReportMetric(size("entries")/float64(b.N), "entry-bytes/entry")
}
