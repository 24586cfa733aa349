package storetest

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

func testPrune(t *testing.T, b Backend) {
	t.Run("DeadReplicasArePrunedAfterTheBound", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		must(t, s.Heartbeat(ctxT(t), "dead", at(0)), "Heartbeat")
		must(t, s.Heartbeat(ctxT(t), "live", at(time.Hour)), "Heartbeat")
		steps := []struct {
			name   string
			before time.Time
			want   int
			left   []string // live an hour before at(0): every row kept
		}{
			{"expired exactly at the bound: kept", at(0), 0, []string{"dead", "live"}},
			{"expired before the bound: pruned", at(time.Millisecond), 1, []string{"live"}},
			{"again: nothing left to prune", at(time.Millisecond), 0, []string{"live"}},
		}
		for _, c := range steps {
			n, leases, err := s.PruneCoordination(ctxT(t), c.before)
			must(t, err, "PruneCoordination "+c.name)
			if n != c.want || leases != 0 {
				t.Fatalf("%s: PruneCoordination = %d replicas, %d leases, want %d, 0", c.name, n, leases, c.want)
			}
			live, err := s.LiveReplicas(ctxT(t), at(-time.Hour))
			must(t, err, "LiveReplicas")
			if !eqStrings(live, c.left) {
				t.Fatalf("%s: replicas left %v, want %v", c.name, live, c.left)
			}
		}
	})

	t.Run("OnlyExpiredLeasesOfGoneStreamsArePruned", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		o := mkOrg(t, s)
		d := mkDestination(t, s, o.ID, "siem")
		webhook := func(st store.StreamID) {
			must(t, s.PutWebhook(ctxT(t), store.Webhook{Stream: st, OrgID: o.ID, DestinationID: d.ID, Enabled: true, UpdatedAt: at(0)}), "PutWebhook")
		}
		stream := func() store.StreamID { return store.StreamID(newID(t)) }
		live, deleted, deletedHeld, released, replayed, replayGone := stream(), stream(), stream(), stream(), stream(), stream()
		for _, st := range []store.StreamID{live, deleted, deletedHeld, released} {
			webhook(st)
		}
		must(t, s.PutReplayJob(ctxT(t), store.ReplayJob{Stream: replayed, OrgID: o.ID, StartAt: at(-time.Hour), EndAt: at(0),
			Status: store.JobAccepted, CreatedAt: at(0), UpdatedAt: at(0)}), "PutReplayJob")

		// deleted's lease reaches epoch 3, the highest of those pruned.
		for range 2 {
			must(t, s.ReleaseLease(ctxT(t), acquire(t, s, store.WebhookLease(deleted), "a", at(0), at(time.Second))), "ReleaseLease")
		}
		expired := func(name string) store.Lease { return acquire(t, s, name, "a", at(0), at(time.Second)) }
		keptLive := expired(store.WebhookLease(live))
		expired(store.WebhookLease(deleted))
		held := acquire(t, s, store.WebhookLease(deletedHeld), "a", at(0), at(2*time.Hour))
		must(t, s.ReleaseLease(ctxT(t), expired(store.WebhookLease(released))), "ReleaseLease")
		keptReplay := expired(store.ReplayLease(replayed))
		keptReplayStreamWebhook := expired(store.WebhookLease(replayed))
		expired(store.ReplayLease(replayGone))
		keptOther := expired("job/" + string(deleted)) // not a webhook's or a replay's
		for _, st := range []store.StreamID{deleted, deletedHeld, released} {
			must(t, s.DeleteWebhook(ctxT(t), st), "DeleteWebhook")
		}

		replicas, leases, err := s.PruneCoordination(ctxT(t), at(time.Hour))
		must(t, err, "PruneCoordination")
		if replicas != 0 || leases != 3 {
			t.Fatalf("PruneCoordination = %d replicas, %d leases, want 0, 3 (deleted, released, replayGone)", replicas, leases)
		}
		for _, want := range []store.Lease{keptLive, held, keptReplay, keptReplayStreamWebhook, keptOther} {
			got, err := s.ListLeases(ctxT(t), want.Name)
			must(t, err, "ListLeases")
			if len(got) != 1 {
				t.Fatalf("lease %s: %+v after pruning, want it kept", want.Name, got)
			}
			checkLease(t, got[0], want)
		}
		for _, name := range []string{store.WebhookLease(deleted), store.WebhookLease(released), store.ReplayLease(replayGone)} {
			if got, _ := s.ListLeases(ctxT(t), name); len(got) != 0 {
				t.Fatalf("lease %s: %+v after pruning, want it gone", name, got)
			}
		}
		if replicas, leases, err := s.PruneCoordination(ctxT(t), at(time.Hour)); err != nil || replicas+leases != 0 {
			t.Fatalf("PruneCoordination again = %d, %d, %v; want nothing", replicas, leases, err)
		}

		// The webhook comes back: its new lease must not repeat an epoch
		// a stalled former holder may still write with; nor may any new
		// lease's, the next pruning's floor being the same row.
		webhook(deleted)
		checkLease(t, acquire(t, s, store.WebhookLease(deleted), "b", at(time.Hour), at(2*time.Hour)),
			store.Lease{Name: store.WebhookLease(deleted), Owner: "b", Epoch: 4, Expires: at(2 * time.Hour)})
		fresh := store.WebhookLease(stream())
		checkLease(t, acquire(t, s, fresh, "b", at(time.Hour), at(2*time.Hour)),
			store.Lease{Name: fresh, Owner: "b", Epoch: 4, Expires: at(2 * time.Hour)})
	})

	t.Run("ConcurrentPrunesFromTwoReplicas", func(t *testing.T) {
		t.Parallel()
		a, bb := b.OpenPair(t)
		const dead, orphans = 20, 40
		for i := range dead {
			must(t, a.Heartbeat(ctxT(t), fmt.Sprintf("dead-%02d", i), at(0)), "Heartbeat")
		}
		must(t, a.Heartbeat(ctxT(t), "live", at(2*time.Hour)), "Heartbeat")
		for i := range orphans {
			name := store.WebhookLease(store.StreamID(fmt.Sprintf("gone-%02d", i)))
			for range i % 3 { // epochs 1 to 3
				must(t, a.ReleaseLease(ctxT(t), acquire(t, a, name, "a", at(0), at(time.Second))), "ReleaseLease")
			}
			acquire(t, a, name, "a", at(0), at(time.Second))
		}
		var replicas, leases atomic.Int64
		race(a, bb, 4, func(s store.Store, _ int) {
			r, l, err := s.PruneCoordination(ctxT(t), at(time.Hour))
			if err != nil {
				t.Errorf("PruneCoordination: %v", err)
				return
			}
			replicas.Add(int64(r))
			leases.Add(int64(l))
		})
		if replicas.Load() != dead || leases.Load() != orphans {
			t.Fatalf("pruned %d replicas and %d leases in all, want %d and %d", replicas.Load(), leases.Load(), dead, orphans)
		}
		for _, s := range []store.Store{a, bb} {
			live, err := s.LiveReplicas(ctxT(t), at(-time.Hour))
			must(t, err, "LiveReplicas")
			if !eqStrings(live, []string{"live"}) {
				t.Fatalf("replicas left %v, want [live]", live)
			}
			checkLeases(t, s, "webhook/")
		}
		checkLease(t, acquire(t, bb, store.WebhookLease("gone-00"), "b", at(time.Hour), at(2*time.Hour)),
			store.Lease{Name: store.WebhookLease("gone-00"), Owner: "b", Epoch: 4, Expires: at(2 * time.Hour)})
	})
}
