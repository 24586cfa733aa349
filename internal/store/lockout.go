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
	p.count(&d.FailedLogins, &d.FailedSince, &d.LockedUntil, now)
}

// count is the rule of CountFailure on an account's three failure fields.
func (p LockoutPolicy) count(failed *int, since, locked *time.Time, now time.Time) {
	if since.IsZero() || now.Sub(*since) >= p.Window || now.Before(*since) {
		*since = now
		*failed = 0
	}
	*failed++
	if *failed >= p.MaxFailures {
		*locked = now.Add(p.Duration)
		*failed = 0
		*since = time.Time{}
	}
}

// PurposeDevice is a device token (OWASP's device cookie): the long-lived
// secret a browser gets at a successful password log-in, kept as a
// UserToken (console) or a DeveloperToken (Dev Portal). An attempt that
// presents its user's device token is judged by DeviceLimit instead of the
// account's lock, so a stranger's failures cannot lock its owner out.
const PurposeDevice = "device"

// DeviceLimit is the bucket of log-in attempts from one known device
// (TakeRateToken keyed by its token): MaxFailures at once, then one every
// Duration/MaxFailures, the most guesses the account's own lock lets
// through over time. A device that keeps failing is refused on its own,
// without locking its account.
func (p LockoutPolicy) DeviceLimit() RateLimit {
	n := max(p.MaxFailures, 1)
	return RateLimit{Every: max(p.Duration/time.Duration(n), time.Second), Burst: n}
}
