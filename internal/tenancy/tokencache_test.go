package tenancy

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
)

// TestTokenCache checks what remembering verified tokens may and may not
// change: a revoked token stops authenticating once TokenCacheTTL has
// passed since it was last looked up, expiry stays exact, and unknown
// secrets are never remembered (a token created after a failed attempt
// works at once).
func TestTokenCache(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	clk := clock.NewFake(epoch)
	s := NewCached(st, clk, TokenCacheTTL)
	ctx := context.Background()
	o, err := s.CreateOrg(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	tok, secret, err := s.CreateToken(ctx, TokenSpec{OrgID: o.ID, Name: "ci", Role: store.RoleProducer, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	mustAuth := func(what string) {
		t.Helper()
		if got, err := s.Authenticate(ctx, secret); err != nil || got.ID != tok.ID {
			t.Fatalf("%s: %+v %v", what, got, err)
		}
	}
	mustFail := func(what string, cause error) {
		t.Helper()
		if _, err := s.Authenticate(ctx, secret); !apperr.Is(err, apperr.Unauthorized) || !errors.Is(err, cause) {
			t.Fatalf("%s: %v, want unauthorized (%v)", what, err, cause)
		}
	}

	mustAuth("first use")
	if err := st.DeleteToken(ctx, o.ID, tok.ID); err != nil {
		t.Fatal(err)
	}
	clk.Advance(TokenCacheTTL - time.Millisecond)
	mustAuth("revoked, within the TTL of the last lookup")
	clk.Advance(time.Millisecond)
	mustFail("revoked, TTL passed", ErrTokenNotFound)

	// Unknown secrets are not remembered: the failed attempt above does
	// not keep a token made with that secret out.
	tok.ID = "0193d4a8-9b8e-7c4f-8a4e-1e2f3a4b5c6d"
	tok.ExpiresAt = clk.Now().Add(time.Minute)
	if err := st.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	mustAuth("created after a failed attempt")
	// Expiry is checked on every request, cached or not.
	clk.Advance(time.Minute)
	mustFail("expired while cached", ErrTokenExpired)

	// Without the cache (New), a revocation shows at once.
	plain := New(st, clk)
	tok2, secret2, err := plain.CreateToken(ctx, TokenSpec{OrgID: o.ID, Name: "cli", Role: store.RoleProducer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Authenticate(ctx, secret2); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteToken(ctx, o.ID, tok2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Authenticate(ctx, secret2); !errors.Is(err, ErrTokenNotFound) {
		t.Fatalf("uncached service after revoke: %v", err)
	}
}

// TestTokenCacheBound checks that a full cache stops remembering rather
// than growing, and makes room once its entries expire.
func TestTokenCacheBound(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(epoch)
	c := &tokenCache{ttl: time.Second, clk: clk, m: map[string]cachedToken{}}
	for i := range tokenCacheMax + 10 {
		c.put([]byte{byte(i), byte(i >> 8), byte(i >> 16)}, store.Token{ID: "x"})
	}
	if len(c.m) != tokenCacheMax {
		t.Fatalf("%d entries, want the bound %d", len(c.m), tokenCacheMax)
	}
	clk.Advance(time.Second)
	c.put([]byte("new"), store.Token{ID: "new"})
	if got, ok := c.get([]byte("new")); !ok || got.ID != "new" || len(c.m) != 1 {
		t.Fatalf("after expiry: %v %v, %d entries", got, ok, len(c.m))
	}
}
