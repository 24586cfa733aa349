package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/sigtrail/sigtrail/internal/store"
)

// BenchmarkLeafBytes appends b.N entries (1,000 an append, one stream) and
// reports what the leaves table (and its key) takes on disk per entry, next
// to the entries' own tables, from SQLite's dbstat: run with
// -benchtime=1000000x for the cost per million entries.
func BenchmarkLeafBytes(b *testing.B) {
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	st := store.StreamID("0192f0a4-1c2b-7d3e-8f40-5a6b7c8d9e0f")
	batch := make([]store.NewEntry, 0, 1000)
	for i := 0; i < b.N; i++ {
		batch = append(batch, benchEntry(st, i))
		if len(batch) == cap(batch) || i == b.N-1 {
			if _, err := s.Append(b.Context(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	size := func(table string) float64 {
		var n int64
		if err := s.rdb.QueryRowContext(b.Context(), "SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name = ?", table).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return float64(n)
	}
	b.ReportMetric(size("leaves")/float64(b.N), "leaf-bytes/entry")
	b.ReportMetric(size("entries")/float64(b.N), "entry-bytes/entry")
}
