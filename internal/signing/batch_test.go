package signing

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"math/rand/v2"
	"testing"

	"github.com/sigtrail/sigtrail/internal/clock"
)

// signBatchOf signs msgs with signBatch and returns the signatures.
func signBatchOf(t testing.TB, priv ed25519.PrivateKey, msgs [][]byte) [][]byte {
	t.Helper()
	k, err := expandKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	sigs := make([][]byte, len(msgs))
	for i := range sigs {
		sigs[i] = make([]byte, ed25519.SignatureSize)
	}
	k.signBatch(msgs, sigs)
	return sigs
}

// Batch signatures are ed25519.Sign's, byte for byte, for random keys,
// batch sizes and messages (empty, short, a line, long, repeated).
func TestSignBatchEqualsEd25519(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		seed := make([]byte, ed25519.SeedSize)
		for i := range seed {
			seed[i] = byte(rng.UintN(256))
		}
		priv := ed25519.NewKeyFromSeed(seed)
		n := 1 + rng.IntN(70)
		msgs := make([][]byte, n)
		for i := range msgs {
			switch rng.IntN(5) {
			case 0: // empty
			case 1:
				msgs[i] = []byte("x")
			case 2:
				if i > 0 {
					msgs[i] = msgs[i-1] // the same message twice in a batch
				}
			default:
				msgs[i] = make([]byte, rng.IntN(2000))
				for j := range msgs[i] {
					msgs[i][j] = byte(rng.UintN(256))
				}
			}
		}
		sigs := signBatchOf(t, priv, msgs)
		for i, m := range msgs {
			if want := ed25519.Sign(priv, m); !bytes.Equal(sigs[i], want) {
				t.Fatalf("round %d, message %d of %d (%d bytes): %x, want %x", round, i, n, len(m), sigs[i], want)
			}
			if !ed25519.Verify(priv.Public().(ed25519.PublicKey), m, sigs[i]) {
				t.Fatalf("round %d, message %d: does not verify", round, i)
			}
		}
	}
}

func TestExpandKeyRefusesABadLength(t *testing.T) {
	t.Parallel()
	if _, err := expandKey(make([]byte, 32)); err == nil {
		t.Fatal("a 32-byte key was taken")
	}
}

func FuzzSignBatch(f *testing.F) {
	f.Add([]byte("seed"), []byte("CEF:0|Kong|sigtrail|1|"), []byte(""))
	f.Fuzz(func(t *testing.T, seed, a, b []byte) {
		s := make([]byte, ed25519.SeedSize)
		copy(s, seed)
		priv := ed25519.NewKeyFromSeed(s)
		msgs := [][]byte{a, b, a}
		for i, sig := range signBatchOf(t, priv, msgs) {
			if !bytes.Equal(sig, ed25519.Sign(priv, msgs[i])) {
				t.Fatalf("message %d differs from ed25519.Sign", i)
			}
		}
	})
}

// BenchmarkSignBatch64 against BenchmarkSignOne: the cost per signature of
// a chunk of 64 lines (delivery's renderPiece) and of ed25519.Sign.
func BenchmarkSignBatch64(b *testing.B) {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	k, err := expandKey(priv)
	if err != nil {
		b.Fatal(err)
	}
	msgs, sigs := make([][]byte, 64), make([][]byte, 64)
	for i := range msgs {
		msgs[i] = bytes.Repeat([]byte{'a' + byte(i%26)}, 420)
		sigs[i] = make([]byte, ed25519.SignatureSize)
	}
	b.ResetTimer()
	for range b.N {
		k.signBatch(msgs, sigs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64), "ns/sig")
}

func BenchmarkSignOne(b *testing.B) {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	msg := bytes.Repeat([]byte{'a'}, 420)
	for range b.N {
		ed25519.Sign(priv, msg)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/sig")
}

// The keyring's SignBatch signs with the key Sign uses, before and after
// a rotation takes effect (the next key's expansion is promoted with it).
func TestKeyringSignBatchFollowsRotation(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(t0)
	k := openKeyring(t, &memKeys{}, clk)
	msgs := [][]byte{[]byte("one"), []byte("two"), {}}
	check := func(when string) {
		t.Helper()
		sigs := [][]byte{make([]byte, 64), make([]byte, 64), make([]byte, 64)}
		k.SignBatch(msgs, sigs)
		for i, m := range msgs {
			if want := k.Sign(m); !bytes.Equal(sigs[i], want) {
				t.Fatalf("%s: message %d signed %x, Sign gives %x", when, i, sigs[i], want)
			}
		}
	}
	check("first key")
	if _, err := k.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("rotated, old key still in force")
	clk.Advance(ActivationDelay)
	check("new key in force")
}
