package audit

import (
	"crypto/ed25519"
	"testing"
	"time"
)

// BenchmarkSignedLine renders and signs one entry per format; compare with
// BenchmarkEd25519SignOnly (the same bytes, signature alone) to get what
// formatting adds on top of the signature.
func BenchmarkSignedLine(b *testing.B) {
	signer := newTestSigner(b)
	e := sampleEntries()[6].entry // access: the longest kind
	r := Renderer{}
	for _, f := range formats {
		b.Run(string(f), func(b *testing.B) {
			buf := make([]byte, 0, 1024)
			b.ReportAllocs()
			for b.Loop() {
				buf = r.AppendSigned(buf[:0], f, &e, signer)
			}
		})
	}
}

// BenchmarkEd25519SignOnly signs the unsigned line of each format with
// crypto/ed25519 directly: the floor BenchmarkSignedLine is measured against.
func BenchmarkEd25519SignOnly(b *testing.B) {
	key := newTestSigner(b).key
	e := sampleEntries()[6].entry
	for _, f := range formats {
		msg := Renderer{}.AppendUnsigned(nil, f, &e)
		b.Run(string(f), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ed25519.Sign(key, msg)
			}
		})
	}
}

// BenchmarkRenderOnly is the formatting alone, without a signature.
func BenchmarkRenderOnly(b *testing.B) {
	e := sampleEntries()[6].entry
	for _, f := range formats {
		b.Run(string(f), func(b *testing.B) {
			buf := make([]byte, 0, 1024)
			b.ReportAllocs()
			for b.Loop() {
				buf = Renderer{}.AppendUnsigned(buf[:0], f, &e)
			}
		})
	}
}

func BenchmarkParseCEF(b *testing.B) {
	e := sampleEntries()[6].entry
	line := Renderer{}.AppendSigned(nil, FormatCEF, &e, newTestSigner(b))
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if _, err := ParseCEF(line); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFormattingOverhead measures, per format, render+sign and
// sign-alone in alternating blocks on the same core, so that load from
// other processes hits both alike, and reports the overhead of formatting
// as a percentage of the signature (the fastest block of each kind is
// compared: interference only ever adds time).
func BenchmarkFormattingOverhead(b *testing.B) {
	signer := newTestSigner(b)
	e := sampleEntries()[6].entry
	r := Renderer{}
	const block = 200
	for _, f := range formats {
		b.Run(string(f), func(b *testing.B) {
			msg := r.AppendUnsigned(nil, f, &e)
			buf := make([]byte, 0, 1024)
			bestFull, bestSign := time.Duration(1<<62), time.Duration(1<<62)
			for b.Loop() {
				t0 := time.Now()
				for range block {
					buf = r.AppendSigned(buf[:0], f, &e, signer)
				}
				t1 := time.Now()
				for range block {
					ed25519.Sign(signer.key, msg)
				}
				t2 := time.Now()
				bestFull = min(bestFull, t1.Sub(t0))
				bestSign = min(bestSign, t2.Sub(t1))
			}
			b.ReportMetric(float64(bestFull)/block, "render+sign-ns")
			b.ReportMetric(float64(bestSign)/block, "sign-ns")
			b.ReportMetric(100*float64(bestFull-bestSign)/float64(bestSign), "overhead-%")
		})
	}
}

// BenchmarkLeafHash is the Merkle leaf hash every append computes (one JSON
// render and one SHA-256): the ingest side's cost of completeness proofs,
// to compare with BenchmarkSignedLine.
func BenchmarkLeafHash(b *testing.B) {
	e := sampleEntries()[6].entry
	b.ReportAllocs()
	for b.Loop() {
		_ = LeafHash(&e)
	}
}
