package tenancy

import (
	"sync"
	"time"

	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
)

// TokenCacheTTL is how long a server trusts a token it verified without
// asking the store again. Looking a token up was a tenth of the server's
// CPU at one event per ingest request (issue 14); with the cache a
// producer's token is read about once a second. The price: a token revoked
// (sigtrail token revoke, another replica, a deleted org) still
// authenticates for up to this long on a server that verified it just
// before. Expiry is exact: it is checked on every request.
const TokenCacheTTL = time.Second

// tokenCacheMax bounds the cache. Only verified tokens enter it, so its
// size is bounded by the tokens in use anyway; past the bound a token is
// simply looked up every time.
const tokenCacheMax = 4096

// tokenCache remembers verified tokens by the hash of their secret.
type tokenCache struct {
	ttl time.Duration
	clk clock.Clock
	mu  sync.Mutex
	m   map[string]cachedToken
}

type cachedToken struct {
	t     store.Token
	until time.Time
}

// NewCached is New with verified tokens remembered for ttl (see
// TokenCacheTTL); the API server uses it, tools that revoke and check at
// once use New.
func NewCached(st store.Tenancy, clk clock.Clock, ttl time.Duration) *Service {
	s := New(st, clk)
	if ttl > 0 {
		s.cache = &tokenCache{ttl: ttl, clk: clk, m: make(map[string]cachedToken)}
	}
	return s
}

func (c *tokenCache) get(hash []byte) (store.Token, bool) {
	if c == nil {
		return store.Token{}, false
	}
	now := c.clk.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[string(hash)]
	if !ok {
		return store.Token{}, false
	}
	if !now.Before(e.until) {
		delete(c.m, string(hash))
		return store.Token{}, false
	}
	return e.t, true
}

func (c *tokenCache) put(hash []byte, t store.Token) {
	if c == nil {
		return
	}
	now := c.clk.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= tokenCacheMax {
		for k, e := range c.m {
			if !now.Before(e.until) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= tokenCacheMax {
			return
		}
	}
	c.m[string(hash)] = cachedToken{t: t, until: now.Add(c.ttl)}
}
