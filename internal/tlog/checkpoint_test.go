package tlog

import (
	"bytes"
	"crypto/ed25519"
	"strings"
	"testing"

	"github.com/sigtrail/sigtrail/internal/audit"
)

type testKey struct{ priv ed25519.PrivateKey }

func (k testKey) ActiveKey() (ed25519.PublicKey, audit.Signer) {
	return k.priv.Public().(ed25519.PublicKey), k
}
func (k testKey) Sign(msg []byte) []byte { return ed25519.Sign(k.priv, msg) }

func newKey(seed byte) testKey {
	s := make([]byte, ed25519.SeedSize)
	s[0] = seed
	return testKey{ed25519.NewKeyFromSeed(s)}
}

func TestCheckpointSignOpen(t *testing.T) {
	t.Parallel()
	k, other := newKey(1), newKey(2)
	c := Checkpoint{Origin: Origin("0190f6c2-5b8a-7c3d-9e1f-2a3b4c5d6e7f"), Size: 12345, Root: [32]byte{1, 2, 3}}
	msg, err := Sign(c, k)
	if err != nil {
		t.Fatal(err)
	}
	text := string(msg)
	if !strings.HasPrefix(text, c.Origin+"\n12345\n") || !strings.Contains(text, "\n\n\u2014 "+c.Origin+" ") {
		t.Fatalf("not a C2SP checkpoint note:\n%s", msg)
	}
	pub, _ := k.ActiveKey()
	opub, _ := other.ActiveKey()
	got, err := Open(msg, []ed25519.PublicKey{opub, pub})
	if err != nil || got != c {
		t.Fatalf("Open = %+v, %v", got, err)
	}
	if _, err := Open(msg, []ed25519.PublicKey{opub}); err == nil {
		t.Fatal("opened with the wrong key")
	}
	forged := bytes.Replace(msg, []byte("\n12345\n"), []byte("\n12346\n"), 1)
	if _, err := Open(forged, []ed25519.PublicKey{pub}); err == nil {
		t.Fatal("opened an altered note")
	}
	// The verifier key is what the Go checksum database's tools read.
	vkey, err := VerifierKey(c.Origin, pub)
	if err != nil || !strings.HasPrefix(vkey, c.Origin+"+") {
		t.Fatalf("VerifierKey = %q, %v", vkey, err)
	}
	if s, ok := StreamOfOrigin(c.Origin); !ok || s != "0190f6c2-5b8a-7c3d-9e1f-2a3b4c5d6e7f" {
		t.Fatalf("StreamOfOrigin = %q", s)
	}
}

func TestParseCheckpoint(t *testing.T) {
	t.Parallel()
	root := "AQIDAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	for _, tc := range []struct {
		text string
		ok   bool
	}{
		{"o\n5\n" + root + "\n", true},
		{"o\n5\n" + root + "\next\n", true},
		{"o\n05\n" + root + "\n", false},
		{"o\n-1\n" + root + "\n", false},
		{"o\n5\n" + root, false},
		{"o o\n5\n" + root + "\n", false},
		{"o\n5\nAQID\n", false},
		{"\n5\n" + root + "\n", false},
		{"o\n5\n" + root + "\n\n", false},
	} {
		_, err := ParseCheckpoint([]byte(tc.text))
		if (err == nil) != tc.ok {
			t.Errorf("%q: err = %v", tc.text, err)
		}
	}
}

// FuzzOpenCheckpoint: any note is opened or refused without a panic; one
// that opens round-trips through Marshal.
func FuzzOpenCheckpoint(f *testing.F) {
	k := newKey(3)
	pub, _ := k.ActiveKey()
	msg, _ := Sign(Checkpoint{Origin: Origin("s"), Size: 3, Root: [32]byte{9}}, k)
	f.Add(msg)
	f.Add([]byte("o\n5\nAQID\n\n\u2014 o AAAA\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		if c, err := ParseCheckpoint(msg); err == nil {
			if back, err := ParseCheckpoint(c.Marshal()); err != nil || back != c {
				t.Fatalf("round trip of %q: %+v, %v", msg, back, err)
			}
		}
		c, err := Open(msg, []ed25519.PublicKey{pub})
		if err != nil {
			return
		}
		if !bytes.HasPrefix(msg, c.Marshal()) {
			t.Fatalf("opened %q as %+v", msg, c)
		}
	})
}

// FuzzParseProofs: any document is read or refused without a panic; what
// is read has sizes in order and whole hashes.
func FuzzParseProofs(f *testing.F) {
	f.Add([]byte(`{"from":1,"to":3,"hashes":["AQIDAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]}`))
	f.Add([]byte(`{"seq":1,"tree_size":3,"leaf_hash":"AQIDAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","hashes":[],"checkpoint":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if from, to, h, err := ParseConsistencyProof(b); err == nil && (from > to || len(h) > maxProofHashes) {
			t.Fatalf("accepted %q", b)
		}
		if p, _, h, err := ParseInclusionProof(b); err == nil && (p.Seq < 1 || p.Seq > p.TreeSize || len(h) > maxProofHashes) {
			t.Fatalf("accepted %q", b)
		}
	})
}
