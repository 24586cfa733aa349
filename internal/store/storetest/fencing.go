package storetest

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

func testFencing(t *testing.T, b Backend) {
	t.Run("WebhookStateWrites", func(t *testing.T) {
		t.Parallel()
		sa, sb := b.OpenPair(t)
		o := mkOrg(t, sa)
		st, unleased := store.StreamID(o.ID), store.StreamID(newID(t))
		for _, s := range []store.StreamID{st, unleased} {
			must(t, sa.PutWebhook(ctxT(t), store.Webhook{Stream: s, OrgID: o.ID, Enabled: true, UpdatedAt: at(0)}), "PutWebhook")
			// Failed ranges for ResolveFailedRange to take apart.
			must(t, sa.AdvanceCursor(ctxT(t), s, store.NoFence, 1000, &store.SeqRange{From: 1, To: 1000}), "AdvanceCursor")
		}
		// The webhook lease is at epoch 2 when A takes it; the stream's
		// replay lease, at 4, fences other writes.
		bumpEpoch(t, sa, store.WebhookLease(st), 1)
		bumpEpoch(t, sa, store.ReplayLease(st), 4)
		la := acquire(t, sa, store.WebhookLease(st), "replica-a", at(0), at(10*time.Second))
		e := la.Epoch

		// Every call changes the state when it is allowed to.
		n := int64(0)
		writes := []struct {
			name string
			do   func(s store.Store, stream store.StreamID, f store.Fence) error
		}{
			{"RecordAttempt", func(s store.Store, stream store.StreamID, f store.Fence) error {
				n++
				return s.RecordAttempt(ctxT(t), stream, f, store.Attempt{At: at(time.Duration(n) * time.Millisecond), ResponseCode: 500 + int(n%2),
					Message: fmt.Sprint("attempt ", n), OK: false})
			}},
			{"AdvanceCursor", func(s store.Store, stream store.StreamID, f store.Fence) error {
				n++
				return s.AdvanceCursor(ctxT(t), stream, f, 2000+n, &store.SeqRange{From: 2000 + n, To: 2000 + n})
			}},
			{"ResolveFailedRange", func(s store.Store, stream store.StreamID, f store.Fence) error {
				n++
				return s.ResolveFailedRange(ctxT(t), stream, f, store.SeqRange{From: n, To: n})
			}},
			{"RecordLoss", func(s store.Store, stream store.StreamID, f store.Fence) error {
				n++
				return s.RecordLoss(ctxT(t), stream, f, store.Loss{Range: store.SeqRange{From: n, To: n}, Entries: 1,
					At: at(time.Duration(n) * time.Millisecond)})
			}},
		}
		type step struct {
			name   string
			s      store.Store
			stream store.StreamID
			fence  store.Fence
			ok     bool
		}
		check := func(phase string, steps []step) {
			t.Helper()
			for _, c := range steps {
				for _, w := range writes {
					what := fmt.Sprintf("%s, %s: %s with fence %d", phase, c.name, w.name, c.fence)
					before, err := sb.GetWebhookState(ctxT(t), c.stream)
					must(t, err, "GetWebhookState")
					err = w.do(c.s, c.stream, c.fence)
					after, err2 := sa.GetWebhookState(ctxT(t), c.stream)
					must(t, err2, "GetWebhookState")
					if c.ok {
						must(t, err, what)
						if same(after, before) {
							t.Fatalf("%s: nothing changed", what)
						}
						continue
					}
					if !errors.Is(err, store.ErrLeaseLost) {
						t.Fatalf("%s: error %v, want ErrLeaseLost", what, err)
					}
					if !same(after, before) {
						t.Fatalf("%s: refused, yet the state went from %+v to %+v", what, before, after)
					}
				}
			}
		}
		check("A holds the lease", []step{
			{"the holder's fence", sa, st, e, true},
			{"the same fence through another handle", sb, st, e, true},
			{"an earlier epoch", sa, st, e - 1, false},
			{"an epoch not yet issued", sa, st, e + 1, false},
			{"the replay lease's epoch", sa, st, 4, false},
			{"a lease never taken", sa, unleased, 1, false},
			{"no fence", sa, st, store.NoFence, true},
		})
		lb := acquire(t, sb, store.WebhookLease(st), "replica-b", at(10*time.Second), at(20*time.Second))
		if lb.Epoch != e+1 {
			t.Fatalf("B took over with epoch %d, want %d", lb.Epoch, e+1)
		}
		check("B took over", []step{
			{"A's fence", sa, st, e, false},
			{"A's fence through B's handle", sb, st, e, false},
			{"B's fence", sb, st, e + 1, true},
			{"B's fence through A's handle", sa, st, e + 1, true},
			{"no fence", sa, st, store.NoFence, true},
		})
		// A lease released keeps its epoch: the fence of the replica that
		// released it opens nothing once another took it.
		must(t, sb.ReleaseLease(ctxT(t), lb), "ReleaseLease")
		acquire(t, sa, store.WebhookLease(st), "replica-a", at(11*time.Second), at(20*time.Second))
		check("A took it back", []step{
			{"its old fence", sa, st, e, false},
			{"B's fence", sb, st, e + 1, false},
			{"the new fence", sa, st, e + 2, true},
		})
	})

	t.Run("TakeOverDuringWrites", func(t *testing.T) {
		t.Parallel()
		sa, sb := b.OpenPair(t)
		o := mkOrg(t, sa)
		st := store.StreamID(o.ID)
		must(t, sa.PutWebhook(ctxT(t), store.Webhook{Stream: st, OrgID: o.ID, Enabled: true, UpdatedAt: at(0)}), "PutWebhook")
		la := acquire(t, sa, store.WebhookLease(st), "replica-a", at(0), at(10*time.Second))

		// A writes in a loop until it is fenced out. Once B's AcquireLease
		// has returned, no write of A's that starts may succeed.
		var takenOver atomic.Bool
		var late atomic.Int64
		first, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			for i := int64(1); i <= 100_000; i++ {
				after := takenOver.Load()
				var err error
				switch i % 3 {
				case 0:
					err = sa.RecordAttempt(ctxT(t), st, la.Epoch, store.Attempt{At: at(time.Duration(i) * time.Millisecond), ResponseCode: 200, Message: fmt.Sprint("a ", i), OK: true})
				case 1:
					err = sa.AdvanceCursor(ctxT(t), st, la.Epoch, i, &store.SeqRange{From: i, To: i})
				case 2:
					err = sa.ResolveFailedRange(ctxT(t), st, la.Epoch, store.SeqRange{From: i - 1, To: i - 1})
				}
				if errors.Is(err, store.ErrLeaseLost) {
					if i == 1 {
						t.Errorf("A's first write was fenced out")
					}
					return
				}
				if err != nil {
					t.Errorf("write %d: %v", i, err)
					return
				}
				if after {
					late.Add(1)
				}
				if i == 1 {
					close(first)
				}
			}
			t.Errorf("A was never fenced out")
		}()
		select {
		case <-first:
		case <-done:
			t.FailNow()
		}
		lb := acquire(t, sb, store.WebhookLease(st), "replica-b", at(10*time.Second), at(20*time.Second))
		takenOver.Store(true)
		want := store.Attempt{At: at(time.Hour), ResponseCode: 503, Message: "b"}
		must(t, sb.RecordAttempt(ctxT(t), st, lb.Epoch, want), "RecordAttempt by B")
		must(t, sb.AdvanceCursor(ctxT(t), st, lb.Epoch, 1_000_000, nil), "AdvanceCursor by B")
		<-done
		if n := late.Load(); n > 0 {
			t.Fatalf("%d writes of A's succeeded after B took the lease", n)
		}
		got, err := sa.GetWebhookState(ctxT(t), st)
		must(t, err, "GetWebhookState")
		if got.LastResponseMessage != "b" || got.LastResponseCode != 503 || !got.LastAttemptAt.Equal(want.At) || got.Cursor != 1_000_000 {
			t.Fatalf("state after the take-over = %+v, want B's attempt and cursor", got)
		}
	})

	t.Run("ReplayJobWrites", func(t *testing.T) {
		t.Parallel()
		sa, sb := b.OpenPair(t)
		o := mkOrg(t, sa)
		p := mkPortal(t, sa, o.ID)
		st, unleased := store.StreamID(o.ID), store.StreamID(p.ID)
		jobs := map[store.StreamID]store.ReplayJob{}
		for _, s := range []store.StreamID{st, unleased} {
			j := store.ReplayJob{Stream: s, OrgID: o.ID, StartAt: at(-time.Hour), EndAt: at(0), Status: store.JobRunning,
				Total: 1000, CreatedAt: at(0), UpdatedAt: at(0)}
			if s == unleased {
				j.PortalID = p.ID
			}
			must(t, sa.PutReplayJob(ctxT(t), j), "PutReplayJob")
			jobs[s] = j
		}
		// The stream's webhook lease, at 4, fences other writes.
		bumpEpoch(t, sa, store.WebhookLease(st), 4)
		bumpEpoch(t, sa, store.ReplayLease(st), 1)
		la := acquire(t, sa, store.ReplayLease(st), "replica-a", at(0), at(10*time.Second))
		e := la.Epoch
		sent := int64(0)
		type step struct {
			name   string
			s      store.Store
			stream store.StreamID
			fence  store.Fence
			ok     bool
		}
		check := func(phase string, steps []step) {
			t.Helper()
			for _, c := range steps {
				what := fmt.Sprintf("%s, %s: UpdateReplayJob with fence %d", phase, c.name, c.fence)
				before, err := sb.GetReplayJob(ctxT(t), c.stream)
				must(t, err, "GetReplayJob")
				sent++
				j := jobs[c.stream]
				j.Sent, j.Cursor, j.UpdatedAt = sent, sent, at(time.Duration(sent)*time.Second)
				err = c.s.UpdateReplayJob(ctxT(t), j, c.fence)
				after, err2 := sa.GetReplayJob(ctxT(t), c.stream)
				must(t, err2, "GetReplayJob")
				if c.ok {
					must(t, err, what)
					if !same(after, j) {
						t.Fatalf("%s: job %+v, want %+v", what, after, j)
					}
					continue
				}
				if !errors.Is(err, store.ErrLeaseLost) {
					t.Fatalf("%s: error %v, want ErrLeaseLost", what, err)
				}
				if !same(after, before) {
					t.Fatalf("%s: refused, yet the job went from %+v to %+v", what, before, after)
				}
			}
		}
		check("A holds the lease", []step{
			{"the holder's fence", sa, st, e, true},
			{"the same fence through another handle", sb, st, e, true},
			{"an earlier epoch", sa, st, e - 1, false},
			{"an epoch not yet issued", sa, st, e + 1, false},
			{"the webhook lease's epoch", sa, st, 4, false},
			{"a lease never taken", sa, unleased, 1, false},
			{"no fence", sa, st, store.NoFence, true},
		})
		lb := acquire(t, sb, store.ReplayLease(st), "replica-b", at(10*time.Second), at(20*time.Second))
		if lb.Epoch != e+1 {
			t.Fatalf("B took over with epoch %d, want %d", lb.Epoch, e+1)
		}
		check("B took over", []step{
			{"A's fence", sa, st, e, false},
			{"A's fence through B's handle", sb, st, e, false},
			{"B's fence", sb, st, e + 1, true},
			{"no fence", sa, st, store.NoFence, true},
		})
	})
}

// bumpEpoch takes and releases the named lease n times, each time by a new
// owner, so its epoch grows by n and it is left free.
func bumpEpoch(t *testing.T, s store.Store, name string, n int) {
	t.Helper()
	for i := range n {
		l := acquire(t, s, name, fmt.Sprintf("bump-%d", i), at(0), at(time.Minute))
		must(t, s.ReleaseLease(ctxT(t), l), "ReleaseLease")
	}
}
