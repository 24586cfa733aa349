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

// TestGzipIsOneMember: the chunks' deflate streams joined make a single
// gzip member (a reader that stops after the first member gets the whole
// body, with nothing left over) holding exactly the lines joined by \n,
// wherever the byte cap cuts: on a chunk's edge (renderPiece lines), inside
// one, after the first line, or nowhere; with one sign worker or several.
func TestGzipIsOneMember(t *testing.T) {
	t.Parallel()
	const total = 3*renderPiece + 5
	var es []store.StoredEntry
	for i, e := range entries(hook{org: "0193a6c2-0000-7000-8000-000000000000"}, 1, total) {
		es = append(es, store.StoredEntry{Seq: int64(i + 1), Entry: e.Entry})
	}
	signer := testSigner()
	var lines [][]byte
	for i := range es {
		lines = append(lines, audit.Renderer{}.AppendSigned(nil, audit.FormatCEF, &es[i].Entry, signer))
	}
	joined := func(n int) int { return len(bytes.Join(lines[:n], []byte("\n"))) }
	for _, workers := range []int{1, 3} {
		for _, want := range []int{total, 1, renderPiece - 1, renderPiece, renderPiece + 1, 2 * renderPiece, total - 1} {
			m, err := New(Config{SignWorkers: workers, MaxBatchBytes: joined(want)}, Deps{Store: newStore(t), Signer: signer, Clock: clock.Real{}})
			if err != nil {
				t.Fatal(err)
			}
			r, err := m.sender.render(lineFormat{format: audit.FormatCEF}, es)
			if err != nil {
				t.Fatal(err)
			}
			src := bytes.NewReader(r.gz)
			zr, err := gzip.NewReader(src)
			if err != nil {
				t.Fatal(err)
			}
			zr.Multistream(false)
			body, err := io.ReadAll(zr)
			if err != nil {
				t.Fatalf("%d workers, %d lines: %v", workers, want, err)
			}
			if !bytes.Equal(body, bytes.Join(lines[:want], []byte("\n"))) || r.n != want || r.size != len(body) {
				t.Fatalf("%d workers, %d lines: got %d lines in %d bytes, size %d", workers, want, r.n, len(body), r.size)
			}
			if src.Len() != 0 {
				t.Fatalf("%d workers, %d lines: %d bytes after the first gzip member", workers, want, src.Len())
			}
		}
	}
}
