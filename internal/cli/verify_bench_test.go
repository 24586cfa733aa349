package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"runtime"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/signing"
)

// BenchmarkVerifyOneCore runs the verify pipeline (line reading, chunking,
// signature split, in-order reporting) with one worker, alternating blocks
// with raw ed25519.Verify over the same lines, and reports the pipeline's
// throughput as a percentage of the raw one. Run it pinned to one core
// (taskset -c 0) so both compete for the same CPU.
func BenchmarkVerifyOneCore(b *testing.B) {
	k, _ := testKeyring(b)
	v, err := signing.ParseJWKS(k.JWKS())
	if err != nil {
		b.Fatal(err)
	}
	pub := k.Keys()[0].Public
	for _, f := range []audit.Format{audit.FormatCEF, audit.FormatJSON, audit.FormatCPS} {
		b.Run(string(f), func(b *testing.B) {
			const block = 512
			var in bytes.Buffer
			var msgs, sigs [][]byte
			for i := range block {
				line := signedLine(k, f, i)
				in.Write(line)
				in.WriteByte('\n')
				m, s, err := audit.SplitSignature(line)
				if err != nil {
					b.Fatal(err)
				}
				msgs, sigs = append(msgs, m), append(sigs, s)
			}
			data := in.Bytes()
			noFail := func(int, error) error { b.Fatal("a line failed"); return nil }
			bestPipe, bestRaw := time.Duration(1<<62), time.Duration(1<<62)
			for b.Loop() {
				t0 := time.Now()
				c, err := verifyStream(context.Background(), bytes.NewReader(data), v.VerifyLine, 1, noFail)
				t1 := time.Now()
				for i := range msgs {
					if !ed25519.Verify(pub, msgs[i], sigs[i]) {
						b.Fatal("raw verify failed")
					}
				}
				t2 := time.Now()
				if err != nil || c.ok != block {
					b.Fatalf("%+v %v", c, err)
				}
				bestPipe = min(bestPipe, t1.Sub(t0))
				bestRaw = min(bestRaw, t2.Sub(t1))
			}
			b.ReportMetric(block/bestPipe.Seconds(), "lines/s")
			b.ReportMetric(block/bestRaw.Seconds(), "raw-verify/s")
			b.ReportMetric(100*bestRaw.Seconds()/bestPipe.Seconds(), "%-of-raw")
		})
	}
}

// BenchmarkVerifyComplete compares verify --complete's pipeline (signature,
// position, leaf hash, stream bookkeeping, then the root) with plain
// verify's over the same sequenced lines, on all cores, alternating runs;
// it reports both rates and their ratio (the goal is at least 80 %).
func BenchmarkVerifyComplete(b *testing.B) {
	k, _ := testKeyring(b)
	v, err := signing.ParseJWKS(k.JWKS())
	if err != nil {
		b.Fatal(err)
	}
	const n = 4096
	var in bytes.Buffer
	formats := []audit.Format{audit.FormatCEF, audit.FormatJSON, audit.FormatCPS}
	for seq := int64(1); seq <= n; seq++ {
		e := seqEntry(seq, false)
		in.Write(audit.Renderer{}.AppendSignedAt(nil, formats[seq%3], &e, audit.Position{Stream: testStream, Seq: seq}, k))
		in.WriteByte('\n')
	}
	data := in.Bytes()
	workers := runtime.GOMAXPROCS(0)
	noFail := func(int, error) error { b.Fatal("a line failed"); return nil }
	bestPlain, bestComplete := time.Duration(1<<62), time.Duration(1<<62)
	for b.Loop() {
		t0 := time.Now()
		if c, err := verifyStream(context.Background(), bytes.NewReader(data), v.VerifyLine, workers, noFail); err != nil || c.ok != n {
			b.Fatalf("%+v %v", c, err)
		}
		t1 := time.Now()
		c := newCompleteCheck(v.PublicKeys())
		err := orderedLines(context.Background(), bytes.NewReader(data), workers, c.checkLine(v), func(i int, r completeLine) error {
			c.add(where{"bench", i}, r)
			return nil
		})
		rep := c.finish(context.Background(), c.streams[testStream], nil)
		t2 := time.Now()
		if err != nil || c.failed != 0 || c.streams[testStream].lines != n || len(rep.lines) == 0 {
			b.Fatalf("complete check: %v, %d failed", err, c.failed)
		}
		bestPlain, bestComplete = min(bestPlain, t1.Sub(t0)), min(bestComplete, t2.Sub(t1))
	}
	b.ReportMetric(n/bestPlain.Seconds(), "plain-lines/s")
	b.ReportMetric(n/bestComplete.Seconds(), "complete-lines/s")
	b.ReportMetric(100*bestPlain.Seconds()/bestComplete.Seconds(), "%-of-verify")
}
