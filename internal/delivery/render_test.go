package delivery

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
)

// TestRenderCutsAcrossChunks: a batch signed by several workers is joined
// and cut at the byte cap exactly as one worker would cut it, wherever the
// cut falls (inside a later chunk, on a chunk boundary, nowhere).
func TestRenderCutsAcrossChunks(t *testing.T) {
	t.Parallel()
	const total = 300 // 3 workers of 100 lines
	var es []store.StoredEntry
	for i, e := range entries(hook{org: "0193a6c2-0000-7000-8000-000000000000"}, 1, total) {
		es = append(es, store.StoredEntry{Seq: int64(i + 1), Entry: e.Entry})
	}
	signer := testSigner()
	var lines [][]byte
	for i := range es {
		lines = append(lines, audit.Renderer{}.AppendSigned(nil, audit.FormatCEF, &es[i].Entry, signer))
	}
	// joined returns the length of the first n lines joined by \n.
	joined := func(n int) int { return len(bytes.Join(lines[:n], []byte("\n"))) }
	tests := []struct {
		name     string
		maxBytes int
		want     int
	}{
		{"no cut", 1 << 20, total},
		{"inside the second chunk", joined(150), 150},
		{"one byte short of a line", joined(151) - 1, 150},
		{"on the chunk boundary", joined(100), 100},
		{"inside the last chunk", joined(299), 299},
		{"one line", 10, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := Config{SignWorkers: 3, MaxBatchBytes: tc.maxBytes}
			m, err := New(cfg, Deps{Store: newStore(t), Signer: signer, Clock: clock.Real{}})
			if err != nil {
				t.Fatal(err)
			}
			r, err := m.sender.render(lineFormat{format: audit.FormatCEF}, es)
			if err != nil {
				t.Fatal(err)
			}
			zr, err := gzip.NewReader(bytes.NewReader(r.gz))
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			want := bytes.Join(lines[:tc.want], []byte("\n"))
			if r.n != tc.want || r.size != len(body) || !bytes.Equal(body, want) || r.first != 1 || r.last != int64(tc.want) {
				t.Fatalf("n %d size %d body %d bytes (want %d lines, %d bytes), seqs %d-%d",
					r.n, r.size, len(body), tc.want, len(want), r.first, r.last)
			}
		})
	}
}
