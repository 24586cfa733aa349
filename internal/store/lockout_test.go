package store

import (
	"testing"
	"time"
)

func TestLockoutPolicyCountFailure(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC)
	m := func(n int) time.Time { return base.Add(time.Duration(n) * time.Minute) }
	p := LockoutPolicy{MaxFailures: 3, Window: 10 * time.Minute, Duration: 30 * time.Minute}
	cases := []struct {
		name  string
		p     LockoutPolicy
		d     Developer
		now   time.Time
		wantD Developer // the fields CountFailure sets
	}{
		{"the first failure opens a window", p, Developer{}, m(0),
			Developer{FailedLogins: 1, FailedSince: m(0)}},
		{"inside the window", p, Developer{FailedLogins: 1, FailedSince: m(0)}, m(9),
			Developer{FailedLogins: 2, FailedSince: m(0)}},
		{"at the window's end counting restarts", p, Developer{FailedLogins: 2, FailedSince: m(0)}, m(10),
			Developer{FailedLogins: 1, FailedSince: m(10)}},
		{"a clock gone back restarts the window", p, Developer{FailedLogins: 2, FailedSince: m(5)}, m(4),
			Developer{FailedLogins: 1, FailedSince: m(4)}},
		{"the last allowed failure locks and restarts the count", p, Developer{FailedLogins: 2, FailedSince: m(0)}, m(9),
			Developer{LockedUntil: m(39)}},
		{"a failure while locked counts anew, the lock stays", p, Developer{LockedUntil: m(39)}, m(10),
			Developer{FailedLogins: 1, FailedSince: m(10), LockedUntil: m(39)}},
		{"a new lock while locked extends it", p, Developer{FailedLogins: 2, FailedSince: m(10), LockedUntil: m(39)}, m(12),
			Developer{LockedUntil: m(42)}},
		{"MaxFailures 1 locks at once", LockoutPolicy{MaxFailures: 1, Window: time.Minute, Duration: time.Hour}, Developer{}, m(0),
			Developer{LockedUntil: m(60)}},
	}
	for _, c := range cases {
		d := c.d
		d.ID, d.Email, d.Status, d.PasswordHash = "dev", "dev@example.com", DeveloperApproved, "$argon2id$x"
		c.p.CountFailure(&d, c.now)
		want := c.wantD
		want.ID, want.Email, want.Status, want.PasswordHash = "dev", "dev@example.com", DeveloperApproved, "$argon2id$x"
		if d.FailedLogins != want.FailedLogins || !d.FailedSince.Equal(want.FailedSince) || !d.LockedUntil.Equal(want.LockedUntil) ||
			d.ID != want.ID || d.Email != want.Email || d.Status != want.Status || d.PasswordHash != want.PasswordHash {
			t.Errorf("%s: %+v, want %+v", c.name, d, want)
		}
	}
}

func TestLockoutPolicyLocked(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC)
	p := LockoutPolicy{MaxFailures: 5, Window: 15 * time.Minute, Duration: 30 * time.Minute}
	d := Developer{LockedUntil: base}
	cases := []struct {
		name string
		d    Developer
		now  time.Time
		want bool
	}{
		{"never locked", Developer{}, base, false},
		{"before the lock ends", d, base.Add(-time.Millisecond), true},
		{"when it ends", d, base, false},
		{"after", d, base.Add(time.Hour), false},
	}
	for _, c := range cases {
		if got := p.Locked(c.d, c.now); got != c.want {
			t.Errorf("%s: Locked = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestLockoutPolicyCountsEveryFailure: N failures in one window lock the
// account N/MaxFailures times and leave N%MaxFailures counted, the property
// Developers.RecordLoginFailure must keep under concurrency.
func TestLockoutPolicyCountsEveryFailure(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC)
	p := LockoutPolicy{MaxFailures: 5, Window: 15 * time.Minute, Duration: 30 * time.Minute}
	for n := 1; n <= 17; n++ {
		var d Developer
		locks := 0
		for range n {
			p.CountFailure(&d, now)
			if d.FailedLogins == 0 { // only a lock leaves no failure counted
				locks++
			}
		}
		if locks != n/p.MaxFailures || d.FailedLogins != n%p.MaxFailures || p.Locked(d, now) != (n >= p.MaxFailures) {
			t.Errorf("%d failures: %d locks, %d counted, locked %v", n, locks, d.FailedLogins, p.Locked(d, now))
		}
	}
}

func TestLockoutPolicyDeviceLimit(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		p    LockoutPolicy
		want RateLimit
	}{
		{"the default policy: 5 at once, then one every 3 minutes", LockoutPolicy{MaxFailures: 5, Window: 15 * time.Minute, Duration: 15 * time.Minute},
			RateLimit{Every: 3 * time.Minute, Burst: 5}},
		{"one failure locks for an hour", LockoutPolicy{MaxFailures: 1, Window: time.Minute, Duration: time.Hour},
			RateLimit{Every: time.Hour, Burst: 1}},
		{"a token comes back no sooner than every second", LockoutPolicy{MaxFailures: 1 << 30, Window: 1, Duration: 1},
			RateLimit{Every: time.Second, Burst: 1 << 30}},
	} {
		if got := c.p.DeviceLimit(); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}
