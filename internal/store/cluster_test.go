package store

import (
	"testing"
	"time"
)

func TestGCRA(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC)
	sec := func(n float64) time.Duration { return time.Duration(n * float64(time.Second)) }
	three := RateLimit{Every: time.Second, Burst: 3}
	cases := []struct {
		name string
		tat  time.Time
		l    RateLimit
		next time.Time // when ok
		ok   bool
		wait time.Duration // when refused
	}{
		{"a new key starts full", time.Time{}, three, now.Add(sec(1)), true, 0},
		{"an idle bucket is full: tat in the past counts from now", now.Add(-time.Hour), three, now.Add(sec(1)), true, 0},
		{"tat now: full", now, three, now.Add(sec(1)), true, 0},
		{"second of the burst", now.Add(sec(1)), three, now.Add(sec(2)), true, 0},
		{"last of the burst", now.Add(sec(2)), three, now.Add(sec(3)), true, 0},
		{"empty: one interval to wait", now.Add(sec(3)), three, now.Add(sec(3)), false, sec(1)},
		{"three quarters of a token back: a quarter to wait", now.Add(sec(2.25)), three, now.Add(sec(2.25)), false, sec(0.25)},
		{"one token back", now.Add(sec(2)), three, now.Add(sec(3)), true, 0},
		{"far behind: the wait is what it takes", now.Add(sec(10)), three, now.Add(sec(10)), false, sec(8)},
		{"burst 1: one at a time", now, RateLimit{Every: time.Minute, Burst: 1}, now.Add(time.Minute), true, 0},
		{"burst 1: the next waits a whole interval", now.Add(time.Minute), RateLimit{Every: time.Minute, Burst: 1}, now.Add(time.Minute), false, time.Minute},
		{"burst 1: a millisecond short", now.Add(time.Millisecond), RateLimit{Every: time.Minute, Burst: 1}, now.Add(time.Millisecond), false, time.Millisecond},
	}
	for _, c := range cases {
		next, ok, wait := GCRA(c.tat, now, c.l)
		if ok != c.ok || wait != c.wait || !next.Equal(c.next) {
			t.Errorf("%s: GCRA = %v, %v, wait %v; want %v, %v, wait %v", c.name, next, ok, wait, c.next, c.ok, c.wait)
		}
	}
}

// TestGCRASequence drives one bucket through time: Burst at once, then one
// per interval, refusals taking nothing.
func TestGCRASequence(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC)
	l := RateLimit{Every: 100 * time.Millisecond, Burst: 4}
	var tat time.Time
	granted := 0
	for ms := 0; ms <= 1000; ms += 10 {
		now := base.Add(time.Duration(ms) * time.Millisecond)
		for {
			next, ok, wait := GCRA(tat, now, l)
			if !ok {
				if wait <= 0 || wait > l.Every {
					t.Fatalf("at +%dms: refused with wait %v", ms, wait)
				}
				if !next.Equal(tat) && !tat.IsZero() {
					t.Fatalf("at +%dms: a refusal moved tat from %v to %v", ms, tat, next)
				}
				break
			}
			tat = next
			granted++
		}
	}
	// 4 at once, then one per 100ms over the next second.
	if want := 4 + 10; granted != want {
		t.Fatalf("granted %d over a second, want %d", granted, want)
	}
}
