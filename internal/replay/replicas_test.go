package replay

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/delivery"
	"github.com/sigtrail/sigtrail/internal/store"
)

// These tests run runners in clustered mode on two handles of one SQLite
// file, as replicas sharing one database, against a real HTTP receiver.

var clustered = Config{BatchSize: 100, LeaseTTL: 8 * time.Second, RenewEvery: 2 * time.Second, RescanEvery: 3 * time.Second}

// countingSender counts the batches one replica sent.
type countingSender struct {
	Sender
	batches atomic.Int64
}

func (c *countingSender) SendBatch(ctx context.Context, d store.Destination, e []store.StoredEntry) error {
	c.batches.Add(1)
	return c.Sender.SendBatch(ctx, d, e)
}

// replica is one runner in clustered mode over its own store handle.
type replica struct {
	r    *Runner
	sent *countingSender
	stop func()
}

func (f *fixture) startReplica(t *testing.T, name string, st store.Store) *replica {
	t.Helper()
	m, err := delivery.New(delivery.Config{InsecureDestinations: true, Retry: delivery.RetryPolicy{Rand: func() float64 { return 0 }}},
		delivery.Deps{Store: st, Signer: newSigner(t), Renderer: audit.Renderer{}, Clock: f.clk})
	if err != nil {
		t.Fatal(err)
	}
	cfg := clustered
	cfg.Replica = name
	rp := &replica{sent: &countingSender{Sender: m}}
	rp.r = New(cfg, Deps{Store: st, Sender: rp.sent, Clock: f.clk})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rp.r.Run(ctx) }()
	var once sync.Once
	rp.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run %s: %v", name, err)
			}
		})
	}
	t.Cleanup(rp.stop)
	return rp
}

func (f *fixture) lease(t *testing.T) store.Lease {
	t.Helper()
	ls, err := f.st.ListLeases(context.Background(), store.ReplayLease(store.StreamID(f.org)))
	if err != nil || len(ls) != 1 {
		t.Fatalf("leases %+v, %v; want the job's", ls, err)
	}
	return ls[0]
}

// A job announced to both replicas (as the change feed does) runs on
// exactly one, at once, and its lease is released when it completes.
func TestReplayJobRunsOnOneReplica(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "db")
	f := newFixture(t, path)
	start := t0.Add(-time.Hour)
	ids := f.appendAt(t, "e", times(start, time.Second, 250))
	a, b := f.startReplica(t, "a", f.st), f.startReplica(t, "b", openStore(t, path))
	f.putJob(t, start, t0)
	a.r.JobChanged(store.StreamID(f.org))
	b.r.JobChanged(store.StreamID(f.org))
	// The fake clock stands still: no rescan runs, JobChanged alone starts it.
	j := f.waitJob(t, "completion", isDone)
	if j.Status != store.JobCompleted || j.Sent != 250 {
		t.Fatalf("job %+v, want completed with 250 sent", j)
	}
	if na, nb := a.sent.batches.Load(), b.sent.batches.Load(); na*nb != 0 || na+nb != 3 {
		t.Errorf("batches sent: a %d, b %d; want 3 by one replica", na, nb)
	}
	got := f.sink.received()
	for _, id := range ids {
		if got[id] != 1 {
			t.Fatalf("entry %s received %d times, want once", id, got[id])
		}
	}
	// The lease is released right after the job's last (fenced) write,
	// so the job may be seen completed a moment before.
	deadline := time.Now().Add(10 * time.Second)
	for l := f.lease(t); l.Owner != ""; l = f.lease(t) {
		if time.Now().After(deadline) {
			t.Fatalf("lease %+v after the job, want released", l)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The owner dies mid-job (its Run ends, nothing released): once its lease
// expires the other replica's rescan resumes the job from the stored
// cursor and completes it, each entry sent once.
func TestReplayResumesOnAnotherReplicaWhenTheOwnerDies(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "db")
	f := newFixture(t, path)
	start := t0.Add(-time.Hour)
	ids := f.appendAt(t, "e", times(start, time.Second, 250))
	reps := map[string]*replica{"a": f.startReplica(t, "a", f.st), "b": f.startReplica(t, "b", openStore(t, path))}
	f.sink.holdFrom.Store(2) // the first batch passes, the second hangs
	f.putJob(t, start, t0)
	for _, rp := range reps {
		rp.r.JobChanged(store.StreamID(f.org))
	}
	<-f.sink.held
	l := f.lease(t)
	owner, other := reps[l.Owner], reps[map[string]string{"a": "b", "b": "a"}[l.Owner]]
	if owner == nil {
		t.Fatalf("lease %+v names no replica", l)
	}
	owner.stop()
	f.sink.holdFrom.Store(0)
	j := f.waitJob(t, "the job left running", func(store.ReplayJob) bool { return true })
	if j.Status != store.JobRunning || j.Sent != 100 {
		t.Fatalf("after the owner died: job %+v, want running with 100 sent", j)
	}
	if n := other.sent.batches.Load(); n != 0 {
		t.Fatalf("the other replica sent %d batches while the owner held the job", n)
	}

	// Before the lease expires the other's rescan leaves the job alone.
	rescanned := f.clk.TimerCreated() // the rescan is over and the next one waits
	f.clk.Advance(clustered.RescanEvery)
	<-rescanned
	if now := f.lease(t); now != l || other.sent.batches.Load() != 0 {
		t.Fatalf("lease %+v moved before it expired (was %+v)", now, l)
	}
	f.clk.Advance(clustered.LeaseTTL)
	j = f.waitJob(t, "completion", isDone)
	if j.Status != store.JobCompleted || j.Sent != 250 || j.Total != 250 {
		t.Fatalf("job %+v, want completed with 250 of 250", j)
	}
	if n := other.sent.batches.Load(); n != 2 {
		t.Errorf("the other replica sent %d batches, want the 2 left", n)
	}
	got := f.sink.received()
	for _, id := range ids {
		if got[id] != 1 {
			t.Fatalf("entry %s received %d times, want once", id, got[id])
		}
	}
}

// partitioned is a replica's store whose lease renewals never get through
// (a pause or a partition), and that reports each UpdateReplayJob error.
type partitioned struct {
	store.Store
	updateErrs chan error
}

func (p *partitioned) RenewLeases(ctx context.Context, _ []store.Lease, _ time.Time) ([]store.Lease, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (p *partitioned) UpdateReplayJob(ctx context.Context, j store.ReplayJob, fence store.Fence) error {
	err := p.Store.UpdateReplayJob(ctx, j, fence)
	if err != nil {
		p.updateErrs <- err
	}
	return err
}

// A runner whose lease another replica took while it was sending cannot
// write the job's progress: the write is fenced and it stops. Its clock
// stands still (a paused process: its renewer does not run, so it does not
// know), while the thief's has passed the lease's expiry.
func TestReplayRunnerThatLostItsLeaseCannotWriteProgress(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "db")
	f := newFixture(t, path)
	other := openStore(t, path)
	start := t0.Add(-time.Hour)
	f.appendAt(t, "e", times(start, time.Second, 250))
	st := &partitioned{Store: f.st, updateErrs: make(chan error, 4)}
	a := f.startReplica(t, "a", st)
	f.sink.holdFrom.Store(2)
	f.putJob(t, start, t0)
	a.r.JobChanged(store.StreamID(f.org))
	<-f.sink.held
	before := f.waitJob(t, "the first batch saved", func(store.ReplayJob) bool { return true })

	now := f.clk.Now().Add(clustered.LeaseTTL + time.Second)
	thief, err := other.AcquireLease(context.Background(), store.ReplayLease(store.StreamID(f.org)), "b", now, now.Add(clustered.LeaseTTL))
	if err != nil {
		t.Fatal(err)
	}
	f.sink.unhold() // a's second batch is accepted; a tries to save it
	select {
	case err := <-st.updateErrs:
		if !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("a's save after the take-over: %v, want ErrLeaseLost", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a's save after the take-over was not refused")
	}
	a.stop()
	after, err := f.st.GetReplayJob(context.Background(), store.StreamID(f.org))
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("job changed by the runner that lost its lease:\nbefore %+v\nafter  %+v", before, after)
	}
	if n := a.sent.batches.Load(); n != 2 {
		t.Errorf("a sent %d batches, want 2: it stops at the refused save", n)
	}
	if l := f.lease(t); l.Owner != "b" || l.Epoch != thief.Epoch {
		t.Errorf("lease %+v, want b's", l)
	}
}

// failingRenewals is a replica's store that cannot renew leases (the
// database unreachable) and tells each attempt.
type failingRenewals struct {
	store.Store
	tried chan time.Time
}

func (p *failingRenewals) RenewLeases(context.Context, []store.Lease, time.Time) ([]store.Lease, error) {
	p.tried <- time.Now()
	return nil, errors.New("test: the database is unreachable")
}

// causeSender holds every batch until its context ends and reports why.
type causeSender struct{ sending, cause chan error }

func (c *causeSender) SendBatch(ctx context.Context, _ store.Destination, _ []store.StoredEntry) error {
	c.sending <- nil
	<-ctx.Done()
	c.cause <- context.Cause(ctx)
	return ctx.Err()
}

// A runner that cannot renew its job's lease stops the job before the lease
// expires, not after: from then on another replica may take it, and the
// batch in flight must not overlap its run.
func TestReplayRunnerStopsBeforeItsLeaseExpires(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "db")
	f := newFixture(t, path)
	start := t0.Add(-time.Hour)
	f.appendAt(t, "e", times(start, time.Second, 10))
	st := &failingRenewals{Store: f.st, tried: make(chan time.Time, 16)}
	sender := &causeSender{sending: make(chan error, 1), cause: make(chan error, 1)}
	cfg := clustered
	cfg.Replica = "a"
	cfg.RescanEvery = time.Hour // the renewer's is the only timer that fires
	r := New(cfg, Deps{Store: st, Sender: sender, Clock: f.clk})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = r.Run(ctx) }()
	f.putJob(t, start, t0)
	r.JobChanged(store.StreamID(f.org))
	l := f.waitLease(t, "a")
	<-sender.sending
	stopAt := l.Expires.Add(-clustered.LeaseTTL / 4)
	for f.clk.Now().Add(clustered.RenewEvery).Before(stopAt) {
		f.waitTimer(t, clustered.RenewEvery)
		f.clk.Advance(clustered.RenewEvery)
		<-st.tried // a failed renewal, with time left: the job goes on
		select {
		case err := <-sender.cause:
			t.Fatalf("the job stopped at +%s (%v), with the lease still %s from the margin",
				f.clk.Now().Sub(l.Expires.Add(-clustered.LeaseTTL)), err, stopAt.Sub(f.clk.Now()))
		default:
		}
	}
	f.waitTimer(t, clustered.RenewEvery)
	f.clk.Advance(clustered.RenewEvery) // at the margin, before the expiry
	if !f.clk.Now().Before(l.Expires) {
		t.Fatalf("test: clock at %v is past the expiry %v", f.clk.Now(), l.Expires)
	}
	select {
	case err := <-sender.cause:
		if !errors.Is(err, errLeaseLost) {
			t.Fatalf("job stopped by %v, want errLeaseLost", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the job went on past its renew margin: clock %v, lease %+v, pending %v", f.clk.Now(), l, f.clk.Pending())
	}
}

// waitLease waits until owner holds the job's lease and returns it.
func (f *fixture) waitLease(t *testing.T, owner string) store.Lease {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ls, err := f.st.ListLeases(context.Background(), store.ReplayLease(store.StreamID(f.org)))
		if err == nil && len(ls) == 1 && ls[0].Owner == owner {
			return ls[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never took the job's lease: %+v, %v", owner, ls, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitTimer waits until a timer due in exactly d is pending on the fake
// clock: a loop that pauses for d is ready to be woken.
func (f *fixture) waitTimer(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, p := range f.clk.Pending() {
			if p == d {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no timer due in %s; pending %v", d, f.clk.Pending())
		}
		time.Sleep(time.Millisecond)
	}
}
