package passwd

import (
	"context"
	"strings"
	"testing"
)

const testPassword = "correct horse battery staple"

func TestPasswordHashRoundTrip(t *testing.T) {
	t.Parallel()
	p := Default()
	h := Hash(testPassword, p)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q", h)
	}
	if h2 := Hash(testPassword, p); h2 == h {
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
		got, err := Check(h, tt.password)
		if err != nil || got != tt.ok {
			t.Errorf("check %q: %v %v, want %v", tt.password, got, err, tt.ok)
		}
	}
}

func TestParsePHCRejectsMalformedAndCostlyHashes(t *testing.T) {
	t.Parallel()
	good := Hash("x", Default())
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
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) accepted", s)
		}
	}
	if _, err := Parse(good); err != nil {
		t.Errorf("Parse(good): %v", err)
	}
}

func TestHasherBoundsConcurrencyAndRespectsContext(t *testing.T) {
	t.Parallel()
	h := NewHasher(Default(), 1)
	h.slots <- struct{}{} // the only slot is busy
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "x"); err == nil {
		t.Error("hash ran without a free slot")
	}
	<-h.slots
	ok, err := h.Check(context.Background(), "", testPassword)
	if ok || err != nil {
		t.Errorf("check against no password: %v %v", ok, err)
	}
}

// BenchmarkHashPassword measures one argon2id hash with the default
// parameters; the goal is well under 100 ms per login.
func BenchmarkHashPassword(b *testing.B) {
	p := Default()
	for b.Loop() {
		Hash(testPassword, p)
	}
}

func BenchmarkCheckPassword(b *testing.B) {
	h := Hash(testPassword, Default())
	for b.Loop() {
		if ok, err := Check(h, testPassword); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(Hash("x", Default()))
	f.Add("$argon2id$v=19$m=1,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=99999999999,t=1,p=1$$")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := Parse(s)
		if err != nil {
			return
		}
		if h.Params.Memory > MaxMemory || h.Params.Time > MaxTime || h.Params.Threads > MaxThreads || h.Params.Threads == 0 ||
			len(h.Key) > MaxKeyLen || len(h.Salt) < 8 {
			t.Fatalf("accepted costly or broken parameters %+v", h.Params)
		}
	})
}
