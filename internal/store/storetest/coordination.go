package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

func testCoordination(t *testing.T, b Backend) {
	open := b.Open

	t.Run("HeartbeatsAndLiveReplicas", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		live, err := s.LiveReplicas(ctxT(t), at(0))
		must(t, err, "LiveReplicas")
		if len(live) != 0 {
			t.Fatalf("LiveReplicas on an empty store = %v", live)
		}
		must(t, s.Heartbeat(ctxT(t), "replica-b", at(20*time.Second)), "Heartbeat")
		must(t, s.Heartbeat(ctxT(t), "replica-a", at(10*time.Second)), "Heartbeat")
		steps := []struct {
			name string
			do   func() error // nil: only look
			now  time.Time
			want []string
		}{
			{"both live, sorted", nil, at(0), []string{"replica-a", "replica-b"}},
			{"live until just before it expires", nil, at(10*time.Second - time.Millisecond), []string{"replica-a", "replica-b"}},
			{"gone at its expiry", nil, at(10 * time.Second), []string{"replica-b"}},
			{"all expired", nil, at(time.Minute), nil},
			{"a new heartbeat extends an expired one", func() error {
				return s.Heartbeat(ctxT(t), "replica-a", at(time.Hour))
			}, at(time.Minute), []string{"replica-a"}},
			{"removed", func() error { return s.RemoveReplica(ctxT(t), "replica-a") }, at(0), []string{"replica-b"}},
			{"removing an unknown replica is no error", func() error {
				return s.RemoveReplica(ctxT(t), "replica-x")
			}, at(0), []string{"replica-b"}},
		}
		for _, c := range steps {
			if c.do != nil {
				must(t, c.do(), c.name)
			}
			live, err := s.LiveReplicas(ctxT(t), c.now)
			must(t, err, "LiveReplicas")
			if !eqStrings(live, c.want) {
				t.Fatalf("%s: LiveReplicas = %v, want %v", c.name, live, c.want)
			}
		}
	})

	t.Run("RemoveReplicaFreesItsLeasesKeepingEpochs", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		now, exp := at(0), at(time.Minute)
		must(t, s.Heartbeat(ctxT(t), "replica-a", exp), "Heartbeat")
		must(t, s.Heartbeat(ctxT(t), "replica-b", exp), "Heartbeat")
		// job/1 reaches epoch 2 first, so a kept epoch is told from one
		// reset to 1.
		must(t, s.ReleaseLease(ctxT(t), acquire(t, s, "job/1", "replica-x", now, exp)), "ReleaseLease")
		a1 := acquire(t, s, "job/1", "replica-a", now, exp)
		a2 := acquire(t, s, "job/2", "replica-a", now, exp)
		b3 := acquire(t, s, "job/3", "replica-b", now, exp)
		if a1.Epoch != 2 || a2.Epoch != 1 {
			t.Fatalf("epochs %d and %d, want 2 and 1", a1.Epoch, a2.Epoch)
		}

		must(t, s.RemoveReplica(ctxT(t), "replica-a"), "RemoveReplica")
		checkLeases(t, s, "job/",
			store.Lease{Name: "job/1", Epoch: 2},
			store.Lease{Name: "job/2", Epoch: 1},
			b3)
		// Freed: another replica takes them at once, before they would have
		// expired, with the next epoch.
		checkLease(t, acquire(t, s, "job/1", "replica-b", now.Add(time.Second), exp), store.Lease{Name: "job/1", Owner: "replica-b", Epoch: 3, Expires: exp})
		checkLease(t, acquire(t, s, "job/2", "replica-b", now.Add(time.Second), exp), store.Lease{Name: "job/2", Owner: "replica-b", Epoch: 2, Expires: exp})
		if live, _ := s.LiveReplicas(ctxT(t), now); !eqStrings(live, []string{"replica-b"}) {
			t.Fatalf("LiveReplicas after RemoveReplica = %v", live)
		}
	})

	t.Run("AcquireLease", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		const name = "webhook/s"
		type step struct {
			name         string
			releaseFirst bool // release the lease as last acquired before this step
			owner        string
			now, expires time.Time
			epoch        store.Fence // 0: Conflict
		}
		sec := func(n int) time.Time { return at(time.Duration(n) * time.Second) }
		steps := []step{
			{"a free lease gets epoch 1", false, "a", sec(0), sec(10), 1},
			{"the holder renews, keeping its epoch", false, "a", sec(5), sec(15), 1},
			{"another owner before it expires: Conflict", false, "b", sec(15).Add(-time.Millisecond), sec(30), 0},
			{"another owner once it expired: the next epoch", false, "b", sec(15), sec(25), 2},
			{"the former holder: Conflict", false, "a", sec(16), sec(30), 0},
			{"the new holder renews", false, "b", sec(20), sec(40), 2},
			{"released, another owner takes it at once: the next epoch", true, "a", sec(21), sec(60), 3},
			{"released, the same owner takes it again: the next epoch", true, "a", sec(22), sec(60), 4},
		}
		var last store.Lease
		for _, c := range steps {
			if c.releaseFirst {
				must(t, s.ReleaseLease(ctxT(t), last), c.name+": ReleaseLease")
			}
			before, err := s.ListLeases(ctxT(t), name)
			must(t, err, "ListLeases")
			got, err := s.AcquireLease(ctxT(t), name, c.owner, c.now, c.expires)
			if c.epoch == 0 {
				wantCode(t, err, apperr.Conflict, c.name)
				if errors.Is(err, store.ErrLeaseLost) {
					t.Fatalf("%s: a held lease answered ErrLeaseLost, want a plain Conflict", c.name)
				}
				checkLeases(t, s, name, before...)
				continue
			}
			must(t, err, c.name)
			last = store.Lease{Name: name, Owner: c.owner, Epoch: c.epoch, Expires: c.expires}
			checkLease(t, got, last)
			checkLeases(t, s, name, last)
		}
		// Each lease counts its own epochs.
		checkLease(t, acquire(t, s, "webhook/t", "a", sec(0), sec(10)), store.Lease{Name: "webhook/t", Owner: "a", Epoch: 1, Expires: sec(10)})
	})

	t.Run("RenewLeasesKeepsOnlyThoseStillHeld", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		now, exp := at(0), at(10*time.Second)
		held := map[string]store.Lease{}
		for _, n := range []string{"r/u", "r/v", "r/w", "r/x", "r/y"} {
			held[n] = acquire(t, s, n, "a", now, exp)
		}
		stolen := acquire(t, s, "r/y", "b", exp, at(30*time.Second)) // taken after it expired: epoch 2
		must(t, s.ReleaseLease(ctxT(t), held["r/w"]), "ReleaseLease")
		otherOwner, otherEpoch := held["r/v"], held["r/u"]
		otherOwner.Owner = "b"
		otherEpoch.Epoch = 7
		renewAt := at(40 * time.Second)
		got, err := s.RenewLeases(ctxT(t), []store.Lease{otherEpoch, otherOwner, held["r/w"], held["r/x"], held["r/y"]}, renewAt)
		must(t, err, "RenewLeases")
		// r/x expired at 10s but nobody took it: its holder still holds it.
		x := held["r/x"]
		x.Expires = renewAt
		sort.Slice(got, func(i, j int) bool { return got[i].Name < got[j].Name })
		if len(got) != 1 {
			t.Fatalf("RenewLeases renewed %+v, want only r/x", got)
		}
		checkLease(t, got[0], x)
		checkLeases(t, s, "r/", held["r/u"], held["r/v"], store.Lease{Name: "r/w", Epoch: 1}, x, stolen)

		// All still held come back, each with its own epoch.
		u, v := held["r/u"], held["r/v"]
		got, err = s.RenewLeases(ctxT(t), []store.Lease{v, x, u}, at(50*time.Second))
		must(t, err, "RenewLeases")
		if len(got) != 3 {
			t.Fatalf("RenewLeases renewed %+v, want r/u, r/v and r/x", got)
		}
		got, err = s.RenewLeases(ctxT(t), nil, at(50*time.Second))
		if err != nil || len(got) != 0 {
			t.Fatalf("RenewLeases(nil) = %+v, %v", got, err)
		}
	})

	t.Run("ReleaseLeaseWithAStaleEpochDoesNothing", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		a1 := acquire(t, s, "rel/x", "a", at(0), at(10*time.Second))
		b2 := acquire(t, s, "rel/x", "b", at(10*time.Second), at(20*time.Second))
		steps := []struct {
			name string
			l    store.Lease
			want store.Lease
		}{
			{"the former holder's epoch", a1, b2},
			{"the holder's epoch, another owner", store.Lease{Name: "rel/x", Owner: "a", Epoch: 2}, b2},
			{"the holder", b2, store.Lease{Name: "rel/x", Epoch: 2}},
			{"the holder, twice", b2, store.Lease{Name: "rel/x", Epoch: 2}},
		}
		for _, c := range steps {
			must(t, s.ReleaseLease(ctxT(t), c.l), "ReleaseLease "+c.name)
			checkLeases(t, s, "rel/", c.want)
		}
		must(t, s.ReleaseLease(ctxT(t), store.Lease{Name: "rel/never", Owner: "a", Epoch: 1}), "ReleaseLease of a lease never taken")
		checkLeases(t, s, "rel/", store.Lease{Name: "rel/x", Epoch: 2})
	})

	t.Run("ListLeasesByPrefix", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		names := []string{"webhook/b", "webhook/a", "webhookx", "replay/a", "web_hook/z", "100%/x", "1000/x", "ré/1", "re/1", "rf/1"}
		for _, n := range names {
			acquire(t, s, n, "a", at(0), at(time.Minute))
		}
		// Names sort by their bytes, as Go sorts strings; the prefix is
		// literal (no pattern characters) and may be any UTF-8.
		cases := []struct {
			prefix string
			want   []string
		}{
			{"", names},
			{"webhook/", []string{"webhook/a", "webhook/b"}},
			{"webhook", []string{"webhook/a", "webhook/b", "webhookx"}},
			{"webhook/a", []string{"webhook/a"}},
			{"web_", []string{"web_hook/z"}},
			{"100%", []string{"100%/x"}},
			{"ré/", []string{"ré/1"}},
			{"r", []string{"re/1", "replay/a", "rf/1", "ré/1"}},
			{"nothing/", nil},
		}
		for _, c := range cases {
			got, err := s.ListLeases(ctxT(t), c.prefix)
			must(t, err, "ListLeases")
			want := slices.Clone(c.want)
			sort.Strings(want)
			if gotNames := ids(got, func(l store.Lease) string { return l.Name }); !eqStrings(gotNames, want) {
				t.Errorf("ListLeases(%q) = %q, want %q", c.prefix, gotNames, want)
			}
		}
	})

	t.Run("ClaimPeriodicOncePerPeriod", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		// Times hold whether a backend counts periods from the last claim or
		// aligns them to multiples of every: base is not on an hour.
		cases := []struct {
			name string
			task string
			now  time.Time
			want bool
		}{
			{"the first claim", "retention", at(0), true},
			{"again at the same instant", "retention", at(0), false},
			{"later in the period", "retention", at(15 * time.Minute), false},
			{"another task is independent", "rollup", at(15 * time.Minute), true},
			{"the next period", "retention", at(time.Hour), true},
			{"later in that period", "retention", at(time.Hour + 15*time.Minute), false},
			{"several periods later", "retention", at(5 * time.Hour), true},
		}
		for _, c := range cases {
			got, err := s.ClaimPeriodic(ctxT(t), c.task, c.now, time.Hour)
			must(t, err, "ClaimPeriodic "+c.name)
			if got != c.want {
				t.Fatalf("%s: ClaimPeriodic = %v, want %v", c.name, got, c.want)
			}
		}
	})

	t.Run("ClaimPeriodicRaceOneWinner", func(t *testing.T) {
		t.Parallel()
		a, b := b.OpenPair(t)
		const perHandle = 8
		for r, now := range []time.Time{at(0), at(time.Hour), at(2 * time.Hour)} {
			won := make([]bool, 2*perHandle)
			race(a, b, perHandle, func(s store.Store, i int) {
				ok, err := s.ClaimPeriodic(ctxT(t), "retention", now, time.Hour)
				if err != nil {
					t.Errorf("ClaimPeriodic: %v", err)
				}
				won[i] = ok
			})
			if n := countTrue(won); n != 1 {
				t.Fatalf("period %d: %d of %d racing callers claimed it, want 1", r, n, len(won))
			}
		}
	})

	t.Run("LeaseRaceOneOwnerPerEpoch", func(t *testing.T) {
		t.Parallel()
		a, b := b.OpenPair(t)
		names := []string{store.WebhookLease("s1"), store.WebhookLease("s2"), store.ReplayLease("s1")}
		const perHandle, rounds = 4, 5
		type result struct {
			l   store.Lease
			err error
		}
		for r := range rounds {
			// Rounds are 10s apart and leases last 5s: every round is a
			// take-over, by owners that never held the lease before.
			now := at(time.Duration(r) * 10 * time.Second)
			exp := now.Add(5 * time.Second)
			owner := func(i int) string { return fmt.Sprintf("round%d-replica%d", r, i) }
			res := make([][]result, 2*perHandle)
			race(a, b, perHandle, func(s store.Store, i int) {
				res[i] = make([]result, len(names))
				for k := range names {
					n := (i + k) % len(names) // goroutines meet on different names first
					l, err := s.AcquireLease(ctxT(t), names[n], owner(i), now, exp)
					res[i][n] = result{l, err}
				}
			})
			for n, name := range names {
				winners := 0
				for i := range res {
					got := res[i][n]
					if got.err != nil {
						if apperr.CodeOf(got.err) != apperr.Conflict {
							t.Fatalf("round %d: AcquireLease(%s) by %s: %v, want a Conflict", r, name, owner(i), got.err)
						}
						continue
					}
					winners++
					checkLease(t, got.l, store.Lease{Name: name, Owner: owner(i), Epoch: store.Fence(r + 1), Expires: exp})
				}
				if winners != 1 {
					t.Fatalf("round %d: %d owners won %s, want 1", r, winners, name)
				}
			}
			for _, s := range []store.Store{a, b} {
				ls, err := s.ListLeases(ctxT(t), "")
				must(t, err, "ListLeases")
				for _, l := range ls {
					if l.Epoch != store.Fence(r+1) || l.Owner == "" || !l.Expires.Equal(exp) {
						t.Fatalf("round %d: after the race %+v", r, l)
					}
				}
			}
		}
	})
}

// acquire takes a lease that must be free, expired or the owner's.
func acquire(t *testing.T, s store.Store, name, owner string, now, expires time.Time) store.Lease {
	t.Helper()
	l, err := s.AcquireLease(ctxT(t), name, owner, now, expires)
	must(t, err, "AcquireLease "+name+" by "+owner)
	if l.Name != name || l.Owner != owner || !l.Expires.Equal(expires) || l.Epoch <= 0 {
		t.Fatalf("AcquireLease(%s, %s) = %+v", name, owner, l)
	}
	return l
}

// checkLease compares leases; a free lease's expiry is not compared.
func checkLease(t *testing.T, got, want store.Lease) {
	t.Helper()
	if got.Name != want.Name || got.Owner != want.Owner || got.Epoch != want.Epoch ||
		(want.Owner != "" && !got.Expires.Equal(want.Expires)) {
		t.Fatalf("lease %+v, want %+v", got, want)
	}
}

// checkLeases compares ListLeases(prefix) with want, in order.
func checkLeases(t *testing.T, s store.Store, prefix string, want ...store.Lease) {
	t.Helper()
	got, err := s.ListLeases(ctxT(t), prefix)
	must(t, err, "ListLeases")
	if len(got) != len(want) {
		t.Fatalf("ListLeases(%q) = %+v, want %+v", prefix, got, want)
	}
	for i := range want {
		checkLease(t, got[i], want[i])
	}
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
