package signing

import (
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
)

// BenchmarkKeyringSign compares Keyring.Sign (state load, activation check
// on the real clock) with ed25519.Sign on the same key and bytes, in
// alternating blocks; see docs/performance-signing.md.
func BenchmarkKeyringSign(b *testing.B) {
	keys := &memKeys{}
	k, err := Open(b.Context(), keys, clock.Real{}, week)
	if err != nil {
		b.Fatal(err)
	}
	stored, _ := keys.ListSigningKeys(b.Context())
	priv := ed25519.PrivateKey(stored[0].PrivateKey)
	e := sampleEntry()
	msg := audit.Renderer{}.AppendUnsigned(nil, audit.FormatCEF, &e)
	const block = 200
	bestK, bestRaw := time.Duration(1<<62), time.Duration(1<<62)
	for b.Loop() {
		t0 := time.Now()
		for range block {
			k.Sign(msg)
		}
		t1 := time.Now()
		for range block {
			ed25519.Sign(priv, msg)
		}
		t2 := time.Now()
		bestK, bestRaw = min(bestK, t1.Sub(t0)), min(bestRaw, t2.Sub(t1))
	}
	b.ReportMetric(float64(bestK)/block, "keyring-ns")
	b.ReportMetric(float64(bestRaw)/block, "ed25519-ns")
	b.ReportMetric(100*float64(bestK-bestRaw)/float64(bestRaw), "overhead-%")
}
