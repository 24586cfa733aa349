package customdomain

import (
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

// Policy says when claims are checked and when a verified name is lost.
type Policy struct {
	// FirstRetry is the wait after a check that did not find the CNAME
	// (or, for a pending claim, whose lookup failed); it doubles with
	// every such check in a row, up to MaxRetry. It is also the wait
	// after a verified name's lookup failed.
	FirstRetry time.Duration
	MaxRetry   time.Duration
	// Recheck is the wait after a check that found it.
	Recheck time.Duration
	// Threshold is how many checks in a row must fail before a verified
	// name goes back to pending.
	Threshold int
}

// DefaultPolicy retries pending claims after 1, 2, 4, ... minutes up to an
// hour, rechecks verified names hourly, and takes a name back after three
// failed checks in a row (about three minutes after the first: a failing
// verified name is retried on the short backoff).
var DefaultPolicy = Policy{FirstRetry: time.Minute, MaxRetry: time.Hour, Recheck: time.Hour, Threshold: 3}

// backoff is the wait after failures checks in a row failed (>= 1).
func (p Policy) backoff(failures int) time.Duration {
	d := p.FirstRetry
	for i := 1; i < failures && d < p.MaxRetry; i++ {
		d *= 2
	}
	return min(d, p.MaxRetry)
}

// Finding is what a check's DNS lookups showed.
type Finding int

const (
	// NotFound: DNS answered, and not with a CNAME chain to the default
	// domain (NXDOMAIN, no CNAME, a CNAME elsewhere).
	NotFound Finding = iota
	// Found: the CNAME chain leads to the default domain.
	Found
	// Unknown: a lookup failed (a timeout, SERVFAIL, the network); DNS
	// said nothing about the name.
	Unknown
)

// Result is what a check of c at now that showed f leads to.
func (p Policy) Result(c store.CustomDomainCheck, f Finding, now time.Time) store.CustomDomainResult {
	r := store.CustomDomainResult{PortalID: c.PortalID, Hostname: c.Hostname, Token: c.Token, Now: now}
	switch f {
	case Found:
		// A name another portal holds is taken from it only by its own
		// checks failing: the store makes the holder due at once, and
		// this claim is asked again soon, while the holder's retries run.
		r.Verified, r.Next, r.Retry = true, now.Add(p.Recheck), now.Add(p.FirstRetry)
		return r
	case Unknown:
		if c.Verified {
			// A resolver's trouble is no failure of a verified name: it
			// stays, and is soon asked again. Counting it would take
			// every tenant's name offline after a few minutes of it.
			r.Verified, r.Failures = true, c.Failures
			r.Next = now.Add(p.FirstRetry)
			r.Retry = r.Next
			return r
		}
		// A pending claim has nothing to lose, so it backs off as after
		// a check that did not find the CNAME: otherwise claims under a
		// zone whose name servers never answer would hold the checker's
		// slots every minute for ever, for every tenant.
	}
	r.Failures = c.Failures + 1
	r.Verified = c.Verified && r.Failures < max(p.Threshold, 1)
	r.Next = now.Add(p.backoff(r.Failures))
	if c.Verified && !r.Verified {
		// Pending now: its backoff starts again from the first retry.
		r.Failures, r.Next = 0, now.Add(p.FirstRetry)
	}
	r.Retry = r.Next
	return r
}
