package storetest

import (
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

func testRateLimits(t *testing.T, b Backend) {
	t.Run("TakeRateTokenIsGCRA", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		l := store.RateLimit{Every: time.Second, Burst: 3}
		ms := func(n int) time.Time { return at(time.Duration(n) * time.Millisecond) }
		steps := []struct {
			name string
			key  string
			now  time.Time
			ok   bool
			wait time.Duration
		}{
			{"burst 1", "k", ms(0), true, 0},
			{"burst 2", "k", ms(0), true, 0},
			{"burst 3", "k", ms(0), true, 0},
			{"empty", "k", ms(0), false, time.Second},
			{"another key has its own bucket", "k2", ms(0), true, 0},
			{"half an interval later", "k", ms(500), false, 500 * time.Millisecond},
			{"one token back", "k", ms(1000), true, 0},
			{"and taken", "k", ms(1000), false, time.Second},
			{"a refusal took nothing", "k", ms(2000), true, 0},
			{"full again after a long idle: 1", "k", ms(60_000), true, 0},
			{"full again: 2", "k", ms(60_000), true, 0},
			{"full again: 3", "k", ms(60_000), true, 0},
			{"full again: no more than the burst", "k", ms(60_000), false, time.Second},
		}
		for _, c := range steps {
			ok, wait, err := s.TakeRateToken(ctxT(t), c.key, c.now, l)
			must(t, err, "TakeRateToken "+c.name)
			if ok != c.ok || wait != c.wait {
				t.Fatalf("%s: TakeRateToken = %v, wait %v; want %v, wait %v", c.name, ok, wait, c.ok, c.wait)
			}
		}
	})

	t.Run("DeleteIdleRateBuckets", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		l := store.RateLimit{Every: time.Second, Burst: 3}
		take := func(key string, now time.Time) bool {
			t.Helper()
			ok, _, err := s.TakeRateToken(ctxT(t), key, now, l)
			must(t, err, "TakeRateToken")
			return ok
		}
		take("one", at(0)) // full again at 1s
		for range 3 {
			take("three", at(0)) // full again at 3s
		}
		steps := []struct {
			now  time.Time
			want int
		}{
			{at(0), 0},
			{at(time.Second - time.Millisecond), 0},
			{at(time.Second), 1}, // "one" is full at 1s
			{at(time.Second), 0},
		}
		for _, c := range steps {
			n, err := s.DeleteIdleRateBuckets(ctxT(t), c.now)
			must(t, err, "DeleteIdleRateBuckets")
			if n != c.want {
				t.Fatalf("DeleteIdleRateBuckets(%v) = %d, want %d", c.now, n, c.want)
			}
		}
		// "three" was kept: at 1s it has one token, not three.
		if !take("three", at(time.Second)) || take("three", at(time.Second)) {
			t.Fatal(`bucket "three" lost its state`)
		}
		if n, _ := s.DeleteIdleRateBuckets(ctxT(t), at(time.Hour)); n != 1 {
			t.Fatalf("DeleteIdleRateBuckets an hour later = %d, want 1", n)
		}
		// A forgotten bucket is a full one.
		for i := range 3 {
			if !take("three", at(time.Hour)) {
				t.Fatalf("take %d of a forgotten bucket refused", i)
			}
		}
	})

	t.Run("RacingTakersNeverExceedTheBurst", func(t *testing.T) {
		t.Parallel()
		sa, sb := b.OpenPair(t)
		l := store.RateLimit{Every: time.Second, Burst: 5}
		const perHandle, takes = 8, 2
		rounds := []struct {
			now  time.Time
			want int
		}{
			{at(0), 5},               // a full bucket
			{at(2 * time.Second), 2}, // two tokens came back
		}
		for _, r := range rounds {
			ok := make([]int, 2*perHandle)
			race(sa, sb, perHandle, func(s store.Store, i int) {
				for range takes {
					got, wait, err := s.TakeRateToken(ctxT(t), "login/198.51.100.4", r.now, l)
					switch {
					case err != nil:
						t.Errorf("TakeRateToken: %v", err)
					case got:
						ok[i]++
					case wait != time.Second:
						t.Errorf("a refused take waits %v, want 1s", wait)
					}
				}
			})
			n := 0
			for _, k := range ok {
				n += k
			}
			if n != r.want {
				t.Fatalf("at %v racing takers got %d tokens, want %d", r.now, n, r.want)
			}
		}
	})
}
