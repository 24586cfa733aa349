package portal

import (
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

// Lockout says how many failed logins within Window lock an account, and
// for how long.
type Lockout struct {
	MaxFailures int
	Window      time.Duration
	Duration    time.Duration
}

// DefaultLockout locks an account for 15 minutes after 5 failures within 15
// minutes.
func DefaultLockout() Lockout {
	return Lockout{MaxFailures: 5, Window: 15 * time.Minute, Duration: 15 * time.Minute}
}

// locked reports whether d is locked at now.
func (l Lockout) locked(d store.Developer, now time.Time) bool {
	return now.Before(d.LockedUntil)
}

// fail counts one failed login of d at now and locks the account when the
// count reaches MaxFailures within Window. Counting restarts after a lock,
// so the next lock needs MaxFailures new failures.
func (l Lockout) fail(d *store.Developer, now time.Time) {
	if d.FailedSince.IsZero() || now.Sub(d.FailedSince) >= l.Window || now.Before(d.FailedSince) {
		d.FailedSince = now
		d.FailedLogins = 0
	}
	d.FailedLogins++
	if d.FailedLogins >= l.MaxFailures {
		d.LockedUntil = now.Add(l.Duration)
		d.FailedLogins = 0
		d.FailedSince = time.Time{}
	}
}

// succeed clears the failure count; it reports whether d changed.
func (l Lockout) succeed(d *store.Developer) bool {
	if d.FailedLogins == 0 && d.FailedSince.IsZero() && d.LockedUntil.IsZero() {
		return false
	}
	d.FailedLogins, d.FailedSince, d.LockedUntil = 0, time.Time{}, time.Time{}
	return true
}
