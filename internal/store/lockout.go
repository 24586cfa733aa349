package store

import "time"

// LockoutPolicy says how many failed logins within Window lock an account,
// and for how long.
type LockoutPolicy struct {
	MaxFailures int
	Window      time.Duration
	Duration    time.Duration
}

// Locked reports whether d is locked at now.
func (p LockoutPolicy) Locked(d Developer, now time.Time) bool { return now.Before(d.LockedUntil) }

// CountFailure counts one failed login of d at now and locks the account
// when the count reaches MaxFailures within Window. Counting restarts after
// a lock, so the next lock needs MaxFailures new failures. Backends apply it
// under a row lock (Developers.RecordLoginFailure), so concurrent failures
// on several replicas all count.
func (p LockoutPolicy) CountFailure(d *Developer, now time.Time) {
	if d.FailedSince.IsZero() || now.Sub(d.FailedSince) >= p.Window || now.Before(d.FailedSince) {
		d.FailedSince = now
		d.FailedLogins = 0
	}
	d.FailedLogins++
	if d.FailedLogins >= p.MaxFailures {
		d.LockedUntil = now.Add(p.Duration)
		d.FailedLogins = 0
		d.FailedSince = time.Time{}
	}
}
