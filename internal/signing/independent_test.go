package signing

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/testenv"
)

// TestRFC8032Vectors stores the RFC 8032 section 7.1 test keys and checks
// that the keyring signs with them exactly as the RFC says, and that the
// kid and JWKS carry the RFC's public key.
func TestRFC8032Vectors(t *testing.T) {
	t.Parallel()
	vectors := []struct{ secret, public, msg, sig string }{
		{"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
			"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
			"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
		{"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
			"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
			"92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
		{"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
			"fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
			"6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
	}
	for _, v := range vectors {
		t.Run(v.public[:8], func(t *testing.T) {
			t.Parallel()
			seed, pub, msg, want := unhex(t, v.secret), unhex(t, v.public), unhex(t, v.msg), unhex(t, v.sig)
			keys := &memKeys{keys: []store.SigningKey{{ID: "rfc8032", PrivateKey: ed25519.NewKeyFromSeed(seed), CreatedAt: t0}}}
			k := openKeyring(t, keys, clock.NewFake(t0))
			if got := k.Sign(msg); !bytes.Equal(got, want) {
				t.Fatalf("signature\n got %x\nwant %x", got, want)
			}
			if ks := k.Keys(); len(ks) != 1 || !bytes.Equal(ks[0].Public, pub) {
				t.Fatalf("published key %x, want %x", ks[0].Public, pub)
			}
			ver := mustVerifier(t, k)
			if ver.keys[0].Equal(ed25519.PublicKey(pub)) != true {
				t.Fatal("JWKS x is not the RFC public key")
			}
		})
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOpenSSLVerifiesSigtrailLines has OpenSSL, an implementation that
// shares no code with Go's, verify sigtrail's signature of each format,
// the way the reference tells SIEM users to do it: the line without its
// sig, the decoded signature, the public key from the JWKS.
func TestOpenSSLVerifiesSigtrailLines(t *testing.T) {
	t.Parallel()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		testenv.Missing(t, "openssl is not installed (apt-get install openssl): the independent check did not run")
	}
	k := openKeyring(t, &memKeys{}, clock.NewFake(t0))
	ver := mustVerifier(t, k) // the key as a verifier reads it from the JWKS
	der, err := x509.MarshalPKIXPublicKey(ver.keys[0])
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pubPath := filepath.Join(dir, "pub.pem")
	writeTestFile(t, pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	for i, line := range signedLines(t, k) {
		msg, sig, err := audit.SplitSignature(line)
		if err != nil {
			t.Fatal(err)
		}
		run := func(msg []byte) error {
			msgPath, sigPath := filepath.Join(dir, "msg"), filepath.Join(dir, "sig")
			writeTestFile(t, msgPath, msg)
			writeTestFile(t, sigPath, sig)
			out, err := exec.Command(openssl, "pkeyutl", "-verify", "-pubin", "-inkey", pubPath, "-rawin",
				"-in", msgPath, "-sigfile", sigPath).CombinedOutput()
			if err != nil {
				return fmt.Errorf("%v: %s", err, bytes.TrimSpace(out))
			}
			if !bytes.Contains(out, []byte("Signature Verified Successfully")) {
				t.Fatalf("unexpected openssl output: %s", out)
			}
			return nil
		}
		if err := run(msg); err != nil {
			t.Fatalf("format %d: openssl rejects sigtrail's signature: %v", i, err)
		}
		// The check must be able to fail: one changed byte is refused.
		bad := append([]byte(nil), msg...)
		bad[len(bad)/2] ^= 1
		if run(bad) == nil {
			t.Fatalf("format %d: openssl accepted an altered line", i)
		}
	}
}

func writeTestFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
