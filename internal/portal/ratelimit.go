package portal

import (
	"context"
	"net/http"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/httpx"
	"github.com/sigtrail/sigtrail/internal/store"
)

// RateLimit is a token bucket per portal and client address (an IPv6
// client's /64, see httpx.RateKey): Burst
// requests at once, then one every Every. A negative Burst turns limiting
// off (the zero RateLimit means the defaults). The buckets live in the
// store, so a limit holds whichever replica answers, and memory does not
// grow with the number of addresses; SweepTokens forgets full buckets.
type RateLimit struct {
	Every time.Duration
	Burst int
}

// DefaultRateLimit allows 10 attempts at once, then one every 6 seconds
// per address.
func DefaultRateLimit() RateLimit {
	return RateLimit{Every: 6 * time.Second, Burst: 10}
}

// The attempts limited, each with its own bucket per address. Registration
// and forgotten-password requests share one: both send email.
const (
	rateAuth     = "auth"
	rateRegister = "register"
)

// rateLimited is the 429 of the per-address limiter.
type rateLimited struct{ retry time.Duration }

func (e rateLimited) Error() string { return "rate limited" }

// checkRate takes a token of the client address's bucket for kind on the
// request's portal. A store failure refuses the attempt: a limit that
// guards passwords must not open when it cannot count.
func (s *server) checkRate(ctx context.Context, r *http.Request, kind string) error {
	l := s.cfg.RateLimit
	if l.Burst <= 0 || l.Every <= 0 {
		return nil // rate limiting disabled
	}
	ri, client := info(r), httpx.ClientIP(r, s.cfg.TrustedProxies)
	key := "portal/" + ri.portal.ID + "/" + kind + "/" + httpx.RateKey(client)
	ok, wait, err := s.st.TakeRateToken(ctx, key, s.clk.Now(), store.RateLimit{Every: l.Every, Burst: l.Burst})
	switch {
	case err != nil:
		return err
	case ok:
		return nil
	}
	// A throttled attempt leaves no audit entry (it was never judged), so
	// it is counted and logged here: a password spray stays visible.
	s.met.rateLimited.WithLabelValues(kind).Inc()
	s.log.Warn("portal: attempt rate limited", "action", kind, "portal_id", ri.portal.ID, "client", client,
		"trace_id", ri.trace, "retry_in", wait.String())
	return &apperr.Error{Code: apperr.RateLimited, Message: "Too many attempts; try again later", Err: rateLimited{wait}}
}
