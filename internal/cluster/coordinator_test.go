package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

// Three replicas share 300 webhooks: each has exactly one owner, the
// preferred one, and none owns more than half.
func TestOneOwnerEachAndSpread(t *testing.T) {
	t.Parallel()
	tc := newCluster(t)
	streams := tc.addWebhooks(300)
	for range 3 {
		tc.start()
	}
	rounds := tc.settle(streams, 5)
	var spread []int
	for _, r := range tc.rs {
		n := len(r.owner.snapshot())
		spread = append(spread, n)
		if n > len(streams)/2 {
			t.Errorf("%s owns %d of %d", r.id, n, len(streams))
		}
		if h := len(r.c.Held()); h != n {
			t.Errorf("%s holds %d leases but owns %d streams", r.id, h, n)
		}
	}
	t.Logf("300 webhooks over 3 replicas: %v, settled after %d rounds", spread, rounds)
}

// A replica that dies without a word keeps its webhooks until its leases
// expire; then the others take them, with new fences.
func TestDeadReplicaTakenOver(t *testing.T) {
	t.Parallel()
	tc := newCluster(t)
	streams := tc.addWebhooks(60)
	for range 3 {
		tc.start()
	}
	tc.settle(streams, 5)
	dead := tc.rs[2]
	was := dead.owner.snapshot()
	died := tc.now
	dead.kill()
	// Until its leases run out (8 s after its last renewal, which was at
	// died), nobody else may deliver its streams.
	for tc.now.Before(died.Add(DefaultLeaseTTL - DefaultRebalanceEvery)) {
		tc.tick(DefaultRebalanceEvery)
		for s := range was {
			for _, r := range tc.rs[:2] {
				if _, ok := r.owner.snapshot()[s]; ok {
					t.Fatalf("%s took %s at %s, before the lease expired", r.id, s, tc.now.Sub(died))
				}
			}
		}
	}
	rounds := tc.settle(streams, 3)
	t.Logf("taken over %s after the death", tc.now.Sub(died))
	if tc.now.After(died.Add(DefaultLeaseTTL + 2*DefaultRebalanceEvery)) {
		t.Errorf("take-over took %s (%d rounds past the lease TTL)", tc.now.Sub(died), rounds)
	}
	for _, r := range tc.rs[:2] {
		for s, f := range r.owner.snapshot() {
			if old, ok := was[s]; ok && f <= old {
				t.Errorf("%s took %s with fence %d, not past the dead one's %d", r.id, s, f, old)
			}
		}
	}
}

// A replica that joins gets its share moved to it within a couple of
// rounds (the holders hand it over rather than letting it expire), and no
// stream moves between the replicas already there.
func TestJoiningReplicaGetsShare(t *testing.T) {
	t.Parallel()
	tc := newCluster(t)
	streams := tc.addWebhooks(90)
	tc.start()
	tc.start()
	tc.settle(streams, 5)
	before := map[store.StreamID]string{}
	for _, r := range tc.rs {
		for s := range r.owner.snapshot() {
			before[s] = r.id
		}
	}
	joined := tc.now
	tc.start()
	tc.settle(streams, 3)
	if d := tc.now.Sub(joined); d >= DefaultLeaseTTL {
		t.Errorf("the share moved after %s, no faster than lease expiry", d)
	}
	n := 0
	for _, r := range tc.rs {
		for s := range r.owner.snapshot() {
			if r.id != before[s] && r.id != "r2" {
				t.Errorf("%s moved from %s to %s", s, before[s], r.id)
			}
			if r.id == "r2" {
				n++
			}
		}
	}
	t.Logf("the new replica got %d of 90 streams in %s", n, tc.now.Sub(joined))
	if n == 0 {
		t.Fatal("the new replica got nothing")
	}
}

// A replica paused past its lease TTL finds its leases taken: its fenced
// write is refused, and reporting it disowns the stream at once. Once it
// runs again it gets its share back.
func TestPausedReplicaCannotWrite(t *testing.T) {
	t.Parallel()
	tc := newCluster(t)
	streams := tc.addWebhooks(40)
	r0, r1 := tc.start(), tc.start()
	tc.settle(streams, 5)
	mine := r0.owner.snapshot()
	if len(mine) == 0 {
		t.Fatal("r0 owns nothing")
	}
	tc.l.mu.Lock()
	tc.l.paused = true
	tc.l.mu.Unlock()
	paused := tc.now
	for tc.now.Sub(paused) <= DefaultLeaseTTL+DefaultRebalanceEvery {
		tc.tick(DefaultRebalanceEvery, r0)
	}
	for s := range mine {
		if _, ok := r1.owner.snapshot()[s]; !ok {
			t.Fatalf("r1 did not take %s from the paused r0", s)
		}
	}
	// r0 wakes with its dispatcher mid-batch: its write is refused.
	var s store.StreamID
	var f store.Fence
	for s, f = range mine {
		break
	}
	err := r0.st.RecordAttempt(context.Background(), s, f, store.Attempt{At: tc.now, ResponseCode: 200, OK: true})
	if !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("fenced write of a paused replica: %v, want ErrLeaseLost", err)
	}
	r0.c.LeaseLost(s)
	r0.waitEvent(t, func(e Event) bool { return e.Kind == LeaseLost && e.Stream == s })
	if _, ok := r0.owner.snapshot()[s]; ok {
		t.Fatal("r0 still owns the stream it lost")
	}
	// Running again, it finds the rest lost at its first renewal and then
	// takes its share back.
	tc.settle(streams, 4)
}

// A replica cut off from the database stops delivering before its leases
// expire, so before another replica can start; it takes its share back
// once the database answers.
func TestPartitionedReplicaStopsFirst(t *testing.T) {
	t.Parallel()
	tc := newCluster(t)
	streams := tc.addWebhooks(40)
	r0 := tc.start()
	tc.start()
	tc.settle(streams, 5)
	mine := r0.owner.snapshot()
	cut := tc.now // r0's last renewal
	r0.st.cut.Store(true)
	stopped := map[store.StreamID]time.Time{}
	taken := map[store.StreamID]time.Time{}
	for len(taken) < len(mine) && tc.now.Sub(cut) < 5*DefaultLeaseTTL {
		evs := tc.tick(DefaultRebalanceEvery)
		for _, e := range kinds(evs["r0"], LeaseExpired) {
			stopped[e.Stream] = e.At
		}
		for _, e := range kinds(evs["r1"], LeaseTaken) {
			taken[e.Stream] = e.At
		}
	}
	for s := range mine {
		switch {
		case stopped[s].IsZero():
			t.Errorf("r0 never stopped %s", s)
		case taken[s].IsZero():
			t.Errorf("r1 never took %s", s)
		case !stopped[s].Before(taken[s]) || !stopped[s].Before(cut.Add(DefaultLeaseTTL)):
			t.Errorf("%s: r0 stopped at +%s, r1 took it at +%s", s, stopped[s].Sub(cut), taken[s].Sub(cut))
		}
	}
	if len(r0.owner.snapshot()) != 0 {
		t.Fatal("the cut-off replica still delivers")
	}
	r0.st.cut.Store(false)
	tc.settle(streams, 4)
}

// An orderly stop frees the leases: the others take them at their next
// round, not after the TTL.
func TestStopHandsOverAtOnce(t *testing.T) {
	t.Parallel()
	tc := newCluster(t)
	streams := tc.addWebhooks(30)
	tc.start()
	r1 := tc.start()
	tc.settle(streams, 5)
	r1.stop()
	if len(r1.owner.snapshot()) != 0 {
		t.Fatal("a stopped replica still owns streams")
	}
	tc.tick(DefaultRebalanceEvery)
	if err := tc.settled(streams); err != nil {
		t.Fatalf("one round after the stop: %v", err)
	}
}

// A disabled webhook is disowned and its lease freed as soon as Kick asks
// for a rebalance.
func TestDisabledWebhookReleased(t *testing.T) {
	t.Parallel()
	tc := newCluster(t)
	streams := tc.addWebhooks(4)
	r0 := tc.start()
	tc.settle(streams, 2)
	s := streams[0]
	if err := tc.db.PutWebhook(context.Background(), store.Webhook{Stream: s, OrgID: string(s), UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	r0.c.Kick()
	r0.waitEvent(t, func(e Event) bool { return e.Kind == LeaseReleased && e.Stream == s })
	if _, ok := r0.owner.snapshot()[s]; ok {
		t.Fatal("the disabled webhook is still delivered")
	}
	if err := tc.settled(streams[1:]); err != nil {
		t.Fatal(err)
	}
}

// Replicas whose host clocks disagree by more than the renew margin still
// never deliver one stream at once, because they tell time by the
// database's clock: a replica running ahead would otherwise see the lease
// of a cut-off replica expire while that one still delivers. (Started with
// onDBClock false, the ledger catches r1 taking streams r0 still owns.)
func TestSkewedClocksNeverShareAStream(t *testing.T) {
	t.Parallel()
	for _, skew := range []time.Duration{5 * time.Second, -5 * time.Second, time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			t.Parallel()
			tc := newCluster(t)
			streams := tc.addWebhooks(40)
			r0 := tc.startSkewed(0, true)
			r1 := tc.startSkewed(skew, true)
			tc.settle(streams, 5)
			mine := r0.owner.snapshot()
			cut := tc.now
			r0.st.cut.Store(true)
			for len(r1.owner.snapshot()) < len(streams) && tc.now.Sub(cut) < 5*DefaultLeaseTTL {
				tc.tick(DefaultRebalanceEvery)
			}
			if n := len(r1.owner.snapshot()); n != len(streams) {
				t.Fatalf("r1 owns %d of %d streams %s after r0 was cut off", n, len(streams), tc.now.Sub(cut))
			}
			if len(r0.owner.snapshot()) != 0 {
				t.Fatal("the cut-off replica still delivers")
			}
			t.Logf("r1 (clock %v off) took r0's %d streams within %s", skew, len(mine), tc.now.Sub(cut))
		})
	}
}
