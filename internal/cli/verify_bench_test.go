package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
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
