package sealing

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// newKey returns one key-file line.
func newKey(t testing.TB) string {
	t.Helper()
	b := make([]byte, KeySize)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func mustKeys(t testing.TB, lines ...string) *Keyring {
	t.Helper()
	k, err := ParseKeys([]byte(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealRoundTrip(t *testing.T) {
	t.Parallel()
	k := mustKeys(t, "# current", newKey(t), "", newKey(t))
	for _, plain := range []string{"Bearer abc", "", strings.Repeat("x", 10000), "\x00\xff"} {
		v := k.Seal([]byte(plain), "destination/1/authorization")
		// The whole plaintext must not show. (A short piece of it may: a
		// 13 KB base64 ciphertext holds "abc" by chance one time in 20.)
		if !strings.HasPrefix(v, Prefix+k.Current()+":") || len(plain) >= 8 && strings.Contains(v, plain) {
			t.Fatalf("sealed %q", v)
		}
		got, sealed, err := k.Open(v, "destination/1/authorization")
		if err != nil || !sealed || string(got) != plain {
			t.Fatalf("open: %q %v %v", got, sealed, err)
		}
	}
	if a, b := k.Seal([]byte("same"), "c"), k.Seal([]byte("same"), "c"); a == b {
		t.Fatal("two seals of one value are equal: the nonce is not fresh")
	}
	// Plaintext from before a key was configured reads as it is.
	got, sealed, err := k.Open("Bearer legacy", "c")
	if err != nil || sealed || string(got) != "Bearer legacy" {
		t.Fatalf("plaintext: %q %v %v", got, sealed, err)
	}
}

func TestOpenRefusesWrongKeyTamperingAndMovedValues(t *testing.T) {
	t.Parallel()
	old, cur := newKey(t), newKey(t)
	sealer := mustKeys(t, old)
	v := sealer.Seal([]byte("Bearer s3cret"), "destination/1/authorization")

	// After rotation the old key still opens what it sealed.
	if got, _, err := mustKeys(t, cur, old).Open(v, "destination/1/authorization"); err != nil || string(got) != "Bearer s3cret" {
		t.Fatalf("rotated ring: %q %v", got, err)
	}
	if _, _, err := mustKeys(t, cur).Open(v, "destination/1/authorization"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unknown key: %v", err)
	}
	if _, _, err := sealer.Open(v, "destination/2/authorization"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("value moved to another row: %v", err)
	}
	payload := v[strings.LastIndexByte(v, ':')+1:]
	raw, _ := base64.RawURLEncoding.DecodeString(payload)
	for i := range raw {
		bad := bytes.Clone(raw)
		bad[i] ^= 1
		tampered := v[:len(v)-len(payload)] + base64.RawURLEncoding.EncodeToString(bad)
		if _, _, err := sealer.Open(tampered, "destination/1/authorization"); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("byte %d flipped: %v", i, err)
		}
	}
	for _, bad := range []string{Prefix, Prefix + "zz:abc", v[:len(v)-10], v + "!", Prefix + sealer.Current() + ":"} {
		if _, _, err := sealer.Open(bad, "destination/1/authorization"); err == nil {
			t.Fatalf("%q opened", bad)
		}
	}
}

func TestParseKeysRefusesBadFiles(t *testing.T) {
	t.Parallel()
	k := newKey(t)
	for name, file := range map[string]string{
		"empty":       "",
		"only notes":  "# nothing\n\n",
		"short key":   base64.StdEncoding.EncodeToString([]byte("short")),
		"not base64":  "not base64 at all!",
		"repeated":    k + "\n" + k,
		"hex not b64": strings.Repeat("ab", 32),
	} {
		_, err := ParseKeys([]byte(file))
		if err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), k) {
			t.Errorf("%s: the error shows the key", name)
		}
	}
}

// FuzzOpen: any stored string, however malformed, opens or is refused
// without a panic, and only a genuine value opens.
func FuzzOpen(f *testing.F) {
	k, err := ParseKeys([]byte("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(k.Seal([]byte("Bearer x"), "ctx"))
	f.Add("Bearer plaintext")
	f.Add(Prefix)
	f.Add(Prefix + k.Current() + ":")
	f.Add(Prefix + "000000000000:AAAA")
	f.Fuzz(func(t *testing.T, v string) {
		plain, sealed, err := k.Open(v, "ctx")
		if sealed != IsSealed(v) {
			t.Fatalf("sealed %v for %q", sealed, v)
		}
		if err == nil && !sealed && string(plain) != v {
			t.Fatalf("plaintext changed: %q", v)
		}
		if err == nil && sealed {
			// Whatever opens must seal back to something that opens alike.
			again, _, err := k.Open(k.Seal(plain, "ctx"), "ctx")
			if err != nil || !bytes.Equal(again, plain) {
				t.Fatalf("reseal of %q: %v", v, err)
			}
		}
	})
}
