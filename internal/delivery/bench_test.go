package delivery

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/signing"
	"github.com/sigtrail/sigtrail/internal/sink"
	"github.com/sigtrail/sigtrail/internal/store"
)

// BenchmarkDeliveryEndToEnd: Record (durable SQLite append) -> dispatcher
// -> render, sign, gzip -> POST -> the real sink on 127.0.0.1, checking
// every 100th signature. Reports delivered entries per second.
func BenchmarkDeliveryEndToEnd(b *testing.B) {
	st := newStore(b)
	keys, err := sink.NewKeySet(context.Background(), writeTestJWKS(b), func(j []byte) (sink.Verifier, error) {
		return signing.ParseJWKS(j)
	}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	sk, err := sink.New(sink.Config{Keys: keys, VerifyEvery: 100})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(sk)
	defer srv.Close()
	h := addWebhook(b, st, srv.URL, audit.FormatCEF)
	m := startManager(b, st, managerOpts{})
	const chunk = 1000
	batch := entries(h, 1, chunk)
	b.ResetTimer()
	start := time.Now()
	for sent := 0; sent < b.N; sent += chunk {
		n := min(chunk, b.N-sent)
		for i := range batch[:n] {
			batch[i].Entry.Time = time.Now()
		}
		if _, err := m.Record(context.Background(), batch[:n]); err != nil {
			b.Fatal(err)
		}
	}
	for sk.Stats().Lines < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	s := sk.Stats()
	if s.Failed != 0 {
		b.Fatalf("%d signatures failed", s.Failed)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "entries/s")
	if s.LatencyMS != nil {
		b.ReportMetric(float64(s.LatencyMS.P99), "p99-ms")
	}
}

// BenchmarkLoneEntry measures one entry from Record to its receipt: the
// durable append, the wake-up and one POST.
func BenchmarkLoneEntry(b *testing.B) {
	st := newStore(b)
	dst := newRecorder()
	srv := httptest.NewServer(dst)
	defer srv.Close()
	h := addWebhook(b, st, srv.URL, audit.FormatCEF)
	m := startManager(b, st, managerOpts{})
	one := entries(h, 1, 1)
	b.ResetTimer()
	for range b.N {
		if _, err := m.Record(context.Background(), one); err != nil {
			b.Fatal(err)
		}
		dst.next(b)
	}
}

// BenchmarkRenderBatch: render, sign and gzip 1,000 CEF lines, the CPU work
// of one full batch, plain and with sequence numbers (seq and stream on
// every line): the delivery side's cost of completeness proofs. Run with
// -cpu 1 to read CPU per batch rather than the workers' wall time.
func BenchmarkRenderBatch(b *testing.B) {
	for _, tc := range []struct {
		name string
		lf   lineFormat
	}{
		{"plain", lineFormat{format: audit.FormatCEF}},
		{"sequenced", lineFormat{format: audit.FormatCEF, seq: true}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m, err := New(Config{}, Deps{Store: newStore(b), Signer: testSigner(), Clock: clock.Real{}})
			if err != nil {
				b.Fatal(err)
			}
			es := make([]store.StoredEntry, 1000)
			for i, e := range entries(hook{org: "0193a6c2-0000-7000-8000-000000000000"}, 1, 1000) {
				es[i] = store.StoredEntry{Seq: int64(i + 1), Stream: store.StreamID("0193a6c2-0000-7000-8000-000000000000"), Entry: e.Entry}
			}
			b.ResetTimer()
			for range b.N {
				if _, err := m.sender.render(tc.lf, es); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}

// BenchmarkGzipLevel compresses one rendered 1,000-line CEF batch at the
// level the sender uses (BestSpeed) and at the others worth weighing, and
// reports the ratio: the choice trades CPU (which signing needs) for wire
// bytes, while a SIEM's limits are on the uncompressed size.
func BenchmarkGzipLevel(b *testing.B) {
	m, err := New(Config{}, Deps{Store: newStore(b), Signer: testSigner(), Clock: clock.Real{}})
	if err != nil {
		b.Fatal(err)
	}
	var body []byte
	for i, e := range entries(hook{org: "0193a6c2-0000-7000-8000-000000000000"}, 1, 1000) {
		if i > 0 {
			body = append(body, '\n')
		}
		body = m.sender.renderer.AppendSigned(body, audit.FormatCEF, &e.Entry, m.sender.signer)
	}
	for _, l := range []struct {
		name  string
		level int
	}{{"huffman-only", gzip.HuffmanOnly}, {"best-speed", gzip.BestSpeed}, {"default", gzip.DefaultCompression}} {
		b.Run(l.name, func(b *testing.B) {
			var out bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&out, l.level)
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				out.Reset()
				zw.Reset(&out)
				if _, err := zw.Write(body); err != nil {
					b.Fatal(err)
				}
				if err := zw.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(body))/float64(out.Len()), "ratio")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/line")
		})
	}
}
