package portal

import (
	"container/list"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit is a token bucket per client address: Burst requests at once,
// then one every Every. A negative Burst turns limiting off (the zero
// RateLimit means the defaults).
type RateLimit struct {
	Every time.Duration
	Burst int
	// MaxClients bounds the memory of the limiter: past it the least
	// recently seen address is forgotten (and starts with a full bucket).
	MaxClients int
}

// DefaultRateLimit allows 10 attempts at once, then one every 6 seconds
// per address, remembering up to 10,000 addresses.
func DefaultRateLimit() RateLimit {
	return RateLimit{Every: 6 * time.Second, Burst: 10, MaxClients: 10000}
}

// limiter is a bounded map of rate.Limiters, least recently used evicted
// first. Time comes from the caller so tests drive it with a fake clock.
type limiter struct {
	cfg   RateLimit
	mu    sync.Mutex
	byKey map[string]*list.Element
	lru   *list.List // front: most recently used; values are *limiterEntry
}

type limiterEntry struct {
	key string
	lim *rate.Limiter
}

func newLimiter(cfg RateLimit) *limiter {
	if cfg.MaxClients < 1 {
		cfg.MaxClients = 1
	}
	return &limiter{cfg: cfg, byKey: map[string]*list.Element{}, lru: list.New()}
}

// allow takes one token of key's bucket at now; when none is left it says
// how long until one is.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	if l.cfg.Burst <= 0 {
		return true, 0 // rate limiting disabled
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var lim *rate.Limiter
	if el, ok := l.byKey[key]; ok {
		l.lru.MoveToFront(el)
		lim = el.Value.(*limiterEntry).lim
	} else {
		for l.lru.Len() >= l.cfg.MaxClients {
			old := l.lru.Back()
			l.lru.Remove(old)
			delete(l.byKey, old.Value.(*limiterEntry).key)
		}
		lim = rate.NewLimiter(rate.Every(l.cfg.Every), l.cfg.Burst)
		l.byKey[key] = l.lru.PushFront(&limiterEntry{key: key, lim: lim})
	}
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// size is the number of addresses remembered.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}
