package signing

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
)

const week = 7 * 24 * time.Hour

var t0 = time.Date(2026, 7, 21, 12, 0, 0, 0, time.UTC)

func sampleEntry() audit.Entry {
	return audit.Entry{Kind: audit.KindAuthentication, Time: t0, Product: audit.ProductDevPortal,
		ClassID: audit.AuthTypeBasic, Name: string(audit.OutcomeSuccess), Src: "192.0.2.1", OrgID: "org",
		PortalID: "portal", PrincipalID: "dev", TraceID: "1", Request: "/api/v2/developer/authenticate"}
}

func signedLines(t *testing.T, s audit.Signer) [][]byte {
	t.Helper()
	e := sampleEntry()
	var out [][]byte
	for _, f := range []audit.Format{audit.FormatCEF, audit.FormatJSON, audit.FormatCPS} {
		out = append(out, audit.Renderer{}.AppendSigned(nil, f, &e, s))
	}
	return out
}

func openKeyring(t *testing.T, keys store.SigningKeys, clk clock.Clock) *Keyring {
	t.Helper()
	k, err := Open(context.Background(), keys, clk, week)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustVerifier(t *testing.T, k *Keyring) Verifier {
	t.Helper()
	v, err := ParseJWKS(k.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenCreatesFirstKeyOnce(t *testing.T) {
	t.Parallel()
	keys := &memKeys{}
	clk := clock.NewFake(t0)
	a := openKeyring(t, keys, clk)
	b := openKeyring(t, keys, clk)
	if a.ActiveID() == "" || a.ActiveID() != b.ActiveID() {
		t.Fatalf("second start made a new key: %q then %q", a.ActiveID(), b.ActiveID())
	}
	if got := len(a.Keys()); got != 1 {
		t.Fatalf("%d keys published, want 1", got)
	}
	if a.ActiveID() != KeyID(a.Keys()[0].Public) {
		t.Fatal("kid is not derived from the public key")
	}
}

func TestSignedLinesVerifyInEveryFormat(t *testing.T) {
	t.Parallel()
	k := openKeyring(t, &memKeys{}, clock.NewFake(t0))
	v := mustVerifier(t, k)
	for _, line := range signedLines(t, k) {
		if err := v.VerifyLine(line); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if err := v.VerifyLine(append(line, '\n')); err != nil {
			t.Fatalf("with newline: %v", err)
		}
	}
}

func TestVerifyLineRejects(t *testing.T) {
	t.Parallel()
	k := openKeyring(t, &memKeys{}, clock.NewFake(t0))
	v := mustVerifier(t, k)
	lines := signedLines(t, k)
	tamper := func(b []byte, i int) []byte {
		c := append([]byte(nil), b...)
		c[i] ^= 1
		return c
	}
	other := openKeyring(t, &memKeys{}, clock.NewFake(t0))
	tests := []struct {
		name string
		line []byte
		want error
	}{
		{"CEF byte changed", tamper(lines[0], 40), ErrBadSignature},
		{"JSON byte changed", tamper(lines[1], 30), ErrBadSignature},
		{"CPS byte changed", tamper(lines[2], 30), ErrBadSignature},
		{"signed by another key", signedLines(t, other)[0], ErrBadSignature},
		{"no signature", []byte("CEF:0|a|b|1.0|c|d|0|rt=1"), audit.ErrNoSignature},
		{"signature truncated", lines[0][:len(lines[0])-1], audit.ErrNoSignature},
		{"empty", nil, audit.ErrNoSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := v.VerifyLine(tc.line); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestRotationKeepsOldKeyForRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	keys := &memKeys{}
	clk := clock.NewFake(t0)
	k := openKeyring(t, keys, clk)
	first := k.ActiveID()
	oldLine := signedLines(t, k)[0]

	clk.Advance(time.Hour)
	kid, err := k.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	switchAt := t0.Add(time.Hour + ActivationDelay)
	// Published at once, but the old key signs until the new one's time.
	if kid == first || k.ActiveID() != first {
		t.Fatalf("rotate gave %q, active %q, first %q", kid, k.ActiveID(), first)
	}
	ks := k.Keys()
	if len(ks) != 2 || ks[0].ID != kid || !ks[0].Active() || !ks[0].CreatedAt.Equal(switchAt) ||
		ks[1].ID != first || !ks[1].RetiredAt.Equal(switchAt) {
		t.Fatalf("published keys after rotation: %+v", ks)
	}
	v := mustVerifier(t, k)
	if err := v.VerifyLine(oldLine); err != nil {
		t.Fatalf("line of the old key: %v", err)
	}
	clk.Advance(ActivationDelay - time.Millisecond)
	if k.ActiveID() != first {
		t.Fatal("the new key signs before its activation")
	}
	clk.Advance(time.Millisecond)
	if k.ActiveID() != kid {
		t.Fatalf("at its activation the new key does not sign: active %q", k.ActiveID())
	}
	newLine := signedLines(t, k)[0]
	if err := v.VerifyLine(newLine); err != nil {
		t.Fatalf("line of the new key, with the JWKS fetched before it signed: %v", err)
	}
	if err := signedByOnly(t, newLine, k.Keys()[0]); err != nil {
		t.Fatal(err)
	}

	// Just inside retention the old key stays; past it, it is dropped.
	clk.Advance(week - time.Second)
	if err := k.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if len(k.Keys()) != 2 {
		t.Fatalf("old key dropped before its retention ended")
	}
	clk.Advance(2 * time.Second)
	if err := k.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if ks := k.Keys(); len(ks) != 1 || ks[0].ID != kid {
		t.Fatalf("after retention: %+v", ks)
	}
	if stored, _ := keys.ListSigningKeys(ctx); len(stored) != 1 {
		t.Fatalf("the expired key is still stored: %d keys", len(stored))
	}
	v = mustVerifier(t, k)
	if err := v.VerifyLine(oldLine); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("old line after retention: %v", err)
	}
	if err := v.VerifyLine(newLine); err != nil {
		t.Fatal(err)
	}
}

// signedByOnly checks that line verifies with key k alone.
func signedByOnly(t *testing.T, line []byte, k Key) error {
	t.Helper()
	return NewVerifier([]Key{k}).VerifyLine(line)
}

func TestReloadSeesAnotherProcesssRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	keys := &memKeys{}
	clk := clock.NewFake(t0)
	a := openKeyring(t, keys, clk)
	b := openKeyring(t, keys, clk)
	kid, err := a.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Keys()) != 1 {
		t.Fatal("b changed before reloading")
	}
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if len(b.Keys()) != 2 || b.Keys()[0].ID != kid {
		t.Fatalf("b after reload publishes %+v", b.Keys())
	}
	clk.Advance(ActivationDelay)
	if a.ActiveID() != kid || b.ActiveID() != kid {
		t.Fatalf("after the activation: a signs with %q, b with %q, want %q", a.ActiveID(), b.ActiveID(), kid)
	}
}

// TestSignDuringRotation runs signers while the key rotates; -race checks
// that the signing path shares nothing unsafely, and every line verifies
// against the final key set.
func TestSignDuringRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := clock.NewFake(t0)
	k := openKeyring(t, &memKeys{}, clk)
	var wg sync.WaitGroup
	lines := make([][][]byte, 4)
	for g := range lines {
		wg.Go(func() {
			for range 50 {
				lines[g] = append(lines[g], signedLines(t, k)[0])
			}
		})
	}
	for range 5 {
		if _, err := k.Rotate(ctx); err != nil {
			t.Fatal(err)
		}
		clk.Advance(ActivationDelay)
	}
	wg.Wait()
	v := mustVerifier(t, k)
	for _, ls := range lines {
		for _, l := range ls {
			if err := v.VerifyLine(l); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestJWKSShape(t *testing.T) {
	t.Parallel()
	k := openKeyring(t, &memKeys{}, clock.NewFake(t0))
	var got struct {
		Keys []map[string]string `json:"keys"`
	}
	dec := json.NewDecoder(bytesReader(k.JWKS()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got.Keys) != 1 {
		t.Fatalf("%d keys", len(got.Keys))
	}
	jk := got.Keys[0]
	pub := k.Keys()[0].Public
	want := map[string]string{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": KeyID(pub),
		"x": b64(pub)}
	if len(jk) != len(want) {
		t.Fatalf("members %v, want %v", jk, want)
	}
	for m, v := range want {
		if jk[m] != v {
			t.Fatalf("%s = %q, want %q", m, jk[m], v)
		}
	}
}

func TestParseJWKS(t *testing.T) {
	t.Parallel()
	pub, _, _ := ed25519.GenerateKey(nil)
	x := b64(pub)
	tests := []struct {
		name  string
		jwks  string
		keys  int
		fails bool
	}{
		{"one key", `{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"a","x":"` + x + `"}]}`, 1, false},
		{"Kong's example shape without use", `{"keys":[{"kty":"OKP","alg":"EdDSA","kid":"3f60","crv":"Ed25519","x":"` + x + `"}]}`, 1, false},
		{"other key types skipped", `{"keys":[{"kty":"RSA","n":"x","e":"AQAB"},{"kty":"OKP","crv":"Ed25519","x":"` + x + `"}]}`, 1, false},
		{"encryption key skipped", `{"keys":[{"kty":"OKP","crv":"Ed25519","use":"enc","x":"` + x + `"}]}`, 0, true},
		{"no keys", `{"keys":[]}`, 0, true},
		{"short x", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]}`, 0, true},
		{"padded x", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + x + `="}]}`, 0, true},
		{"not JSON", `keys`, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := ParseJWKS([]byte(tc.jwks))
			if tc.fails != (err != nil) {
				t.Fatalf("err = %v", err)
			}
			if len(v.KeyIDs()) != tc.keys {
				t.Fatalf("%d keys, want %d", len(v.KeyIDs()), tc.keys)
			}
		})
	}
}

func TestOpenRejectsBadInput(t *testing.T) {
	t.Parallel()
	if _, err := Open(context.Background(), &memKeys{}, clock.NewFake(t0), 0); err == nil {
		t.Fatal("zero retention accepted")
	}
	bad := &memKeys{keys: []store.SigningKey{{ID: "x", PrivateKey: []byte("short"), CreatedAt: t0}}}
	if _, err := Open(context.Background(), bad, clock.NewFake(t0), week); err == nil {
		t.Fatal("malformed stored key accepted")
	}
}
