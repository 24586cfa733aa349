package portal

import (
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

// Lockout says how many failed logins within Window lock an account, and
// for how long. The rule (store.LockoutPolicy.CountFailure) is applied by
// the store under a row lock, so failures answered by different replicas
// all count towards one lock.
type Lockout = store.LockoutPolicy

// DefaultLockout locks an account for 15 minutes after 5 failures within 15
// minutes.
func DefaultLockout() Lockout {
	return Lockout{MaxFailures: 5, Window: 15 * time.Minute, Duration: 15 * time.Minute}
}

// hasFailures reports whether d has a failure count or lock to clear.
func hasFailures(d store.Developer) bool {
	return d.FailedLogins != 0 || !d.FailedSince.IsZero() || !d.LockedUntil.IsZero()
}
