package delivery

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"io"
	"slices"
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

// Chunks below storeBelow go as stored blocks, larger ones compressed;
// either way they end on a byte boundary, so chunks of both kinds join
// into one deflate stream that inflates to their concatenation.
func TestDeflateIntoStoresSmallChunks(t *testing.T) {
	t.Parallel()
	m, err := New(Config{}, Deps{Store: newStore(t), Signer: testSigner(), Clock: clock.Real{}})
	if err != nil {
		t.Fatal(err)
	}
	var stream, want []byte
	for _, n := range []int{0, 1, 300, storeBelow - 1, storeBelow, 5 * storeBelow, 2} {
		p := bytes.Repeat([]byte("CEF:0|Kong|sigtrail|1|"), n/22+1)[:n]
		z := m.sender.deflateInto(nil, p)
		if stored := len(z) == n+5 && z[0] == 0; stored != (n < storeBelow) {
			t.Errorf("%d bytes: stored %v, want %v", n, stored, n < storeBelow)
		}
		stream = append(stream, z...)
		want = append(want, p...)
	}
	stream = append(stream, finalBlock...)
	got, err := io.ReadAll(flate.NewReader(bytes.NewReader(stream)))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("inflated %d bytes (%v), want %d", len(got), err, len(want))
	}
}

// batchSigner is a BatchSigner over testSigner, one Sign per message: it
// checks the plumbing of appendLinesBatch (internal/signing tests the
// batch arithmetic against ed25519.Sign).
type batchSigner struct {
	edSigner
	batches *int
}

func (b batchSigner) SignBatch(msgs, sigs [][]byte) {
	*b.batches++
	for i, m := range msgs {
		copy(sigs[i], b.Sign(m))
	}
}

// Lines signed in batches are the lines signed one by one, in every format,
// with and without sequence numbers, for chunks of every size.
func TestBatchSignedLinesEqualSingle(t *testing.T) {
	t.Parallel()
	const total = 2*renderPiece + 3
	var es []store.StoredEntry
	for i, e := range entries(hook{stream: "0193a6c2-0000-7000-8000-0000000000aa", org: "0193a6c2-0000-7000-8000-000000000000"}, 1, total) {
		es = append(es, store.StoredEntry{Stream: e.Stream, Seq: int64(i + 1), Entry: e.Entry})
	}
	batches := 0
	one, err := New(Config{SignWorkers: 1}, Deps{Store: newStore(t), Signer: testSigner(), Clock: clock.Real{}})
	if err != nil {
		t.Fatal(err)
	}
	many, err := New(Config{SignWorkers: 1}, Deps{Store: newStore(t), Signer: batchSigner{testSigner(), &batches}, Clock: clock.Real{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []audit.Format{audit.FormatCEF, audit.FormatJSON, audit.FormatCPS} {
		for _, seq := range []bool{false, true} {
			for _, n := range []int{1, 2, renderPiece, total} {
				lf := lineFormat{format: f, seq: seq}
				a, b := one.sender.renderLines(lf, es[:n]), many.sender.renderLines(lf, es[:n])
				for i := range a {
					if !bytes.Equal(a[i].buf, b[i].buf) || !slices.Equal(a[i].ends, b[i].ends) {
						t.Fatalf("%s, seq %v, %d lines: chunk %d differs\n%s\n%s", f, seq, n, i, a[i].buf, b[i].buf)
					}
				}
			}
		}
	}
	if batches == 0 {
		t.Fatal("SignBatch was never used")
	}
}
