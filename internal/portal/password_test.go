package portal

import (
	"context"
	"strings"
	"testing"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	t.Parallel()
	p := DefaultArgon2()
	h := hashPassword(testPassword, p)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q", h)
	}
	if h2 := hashPassword(testPassword, p); h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	tests := []struct {
		password string
		ok       bool
	}{
		{testPassword, true},
		{testPassword + " ", false},
		{strings.ToUpper(testPassword), false},
		{"", false},
	}
	for _, tt := range tests {
		got, err := checkPassword(h, tt.password)
		if err != nil || got != tt.ok {
			t.Errorf("check %q: %v %v, want %v", tt.password, got, err, tt.ok)
		}
	}
}

func TestParsePHCRejectsMalformedAndCostlyHashes(t *testing.T) {
	t.Parallel()
	good := hashPassword("x", DefaultArgon2())
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	tests := []string{
		"",
		"plain",
		"$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2$" + salt + "$" + key,
		"$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key, // 4 GiB
		"$argon2id$v=19$m=19456,t=1000,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=255$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$!!$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$",
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt,
		good + "$",
	}
	for _, s := range tests {
		if _, err := parsePHC(s); err == nil {
			t.Errorf("parsePHC(%q) accepted", s)
		}
	}
	if _, err := parsePHC(good); err != nil {
		t.Errorf("parsePHC(good): %v", err)
	}
}

func TestHasherBoundsConcurrencyAndRespectsContext(t *testing.T) {
	t.Parallel()
	h := newHasher(DefaultArgon2(), 1)
	h.slots <- struct{}{} // the only slot is busy
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.hash(ctx, "x"); err == nil {
		t.Error("hash ran without a free slot")
	}
	<-h.slots
	ok, err := h.check(context.Background(), "", testPassword)
	if ok || err != nil {
		t.Errorf("check against no password: %v %v", ok, err)
	}
}

// BenchmarkHashPassword measures one argon2id hash with the default
// parameters; the goal is well under 100 ms per login.
func BenchmarkHashPassword(b *testing.B) {
	p := DefaultArgon2()
	for b.Loop() {
		hashPassword(testPassword, p)
	}
}

func BenchmarkCheckPassword(b *testing.B) {
	h := hashPassword(testPassword, DefaultArgon2())
	for b.Loop() {
		if ok, err := checkPassword(h, testPassword); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
