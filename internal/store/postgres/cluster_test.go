package postgres

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/postgres/pgtest"
)

// Two store handles on one database, like two replicas. (Until the
// conformance suite races handles itself, these cover what only a shared
// database can get wrong.)
func openPair(t *testing.T) (*Store, *Store) {
	t.Helper()
	url := pgtest.URL(t)
	return openURL(t, url, Options{}), openURL(t, url, Options{})
}

// race runs fn n times at once, alternating between the two handles.
func race[T any](n int, a, b *Store, fn func(i int, s *Store) T) []T {
	out := make([]T, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			<-start
			out[i] = fn(i, s)
		})
	}
	close(start)
	wg.Wait()
	return out
}

var t0 = time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)

func TestLeaseTakenByOneReplicaAndFenced(t *testing.T) {
	t.Parallel()
	a, b := openPair(t)
	ctx := t.Context()
	name := store.WebhookLease("s")
	type result struct {
		l   store.Lease
		err error
	}
	res := race(8, a, b, func(i int, s *Store) result {
		l, err := s.AcquireLease(ctx, name, fmt.Sprint("replica-", i), t0, t0.Add(time.Minute))
		return result{l, err}
	})
	var won []store.Lease
	for _, r := range res {
		switch {
		case r.err == nil:
			won = append(won, r.l)
		case !apperr.Is(r.err, apperr.Conflict) || errors.Is(r.err, store.ErrLeaseLost):
			t.Fatalf("a losing AcquireLease: %v, want a Conflict", r.err)
		}
	}
	if len(won) != 1 || won[0].Epoch != 1 {
		t.Fatalf("winners: %+v, want one with epoch 1", won)
	}
	holder := won[0]

	// The holder renews and keeps its epoch; another replica takes over
	// once it has expired, with the next epoch.
	got, err := b.AcquireLease(ctx, name, holder.Owner, t0.Add(time.Second), t0.Add(2*time.Minute))
	if err != nil || got.Epoch != holder.Epoch {
		t.Fatalf("renewal by the holder = %+v, %v", got, err)
	}
	taker, err := a.AcquireLease(ctx, name, "taker", t0.Add(3*time.Minute), t0.Add(4*time.Minute))
	if err != nil || taker.Epoch != holder.Epoch+1 || taker.Owner != "taker" {
		t.Fatalf("take-over of an expired lease = %+v, %v", taker, err)
	}

	// The old holder's fence is lost: nothing it writes lands.
	o := store.Org{ID: "org", Name: "org"}
	mustOK(t, a.CreateOrg(ctx, o))
	mustOK(t, a.PutWebhook(ctx, store.Webhook{Stream: "s", OrgID: o.ID, Enabled: true}))
	stale := holder.Epoch
	for what, err := range map[string]error{
		"RecordAttempt":      b.RecordAttempt(ctx, "s", stale, store.Attempt{At: t0, ResponseCode: 500}),
		"AdvanceCursor":      b.AdvanceCursor(ctx, "s", stale, 10, &store.SeqRange{From: 1, To: 10}),
		"ResolveFailedRange": b.ResolveFailedRange(ctx, "s", stale, store.SeqRange{From: 1, To: 2}),
	} {
		if !errors.Is(err, store.ErrLeaseLost) {
			t.Errorf("%s with a stale fence: %v, want ErrLeaseLost", what, err)
		}
	}
	if st, _ := a.GetWebhookState(ctx, "s"); st.Cursor != 0 || st.LastResponseCode != 0 || len(st.FailedRanges) != 0 {
		t.Fatalf("a stale holder changed the state: %+v", st)
	}
	mustOK(t, a.AdvanceCursor(ctx, "s", taker.Epoch, 10, &store.SeqRange{From: 1, To: 10}))
	if !errors.Is(b.AdvanceCursor(ctx, "unleased", 3, 1, nil), store.ErrLeaseLost) {
		t.Error("a fenced write without a lease row is not ErrLeaseLost")
	}
	mustOK(t, b.AdvanceCursor(ctx, "s", store.NoFence, 11, nil))

	job := store.ReplayJob{Stream: "s", OrgID: o.ID, Status: store.JobRunning}
	mustOK(t, a.PutReplayJob(ctx, job))
	rl, err := a.AcquireLease(ctx, store.ReplayLease("s"), "taker", t0, t0.Add(time.Minute))
	mustOK(t, err)
	job.Sent = 5
	if !errors.Is(b.UpdateReplayJob(ctx, job, rl.Epoch+1), store.ErrLeaseLost) {
		t.Error("UpdateReplayJob with a wrong fence is not ErrLeaseLost")
	}
	mustOK(t, b.UpdateReplayJob(ctx, job, rl.Epoch))

	// Renewal in one call keeps what is still held; release and
	// RemoveReplica free leases but keep epochs.
	other, err := a.AcquireLease(ctx, "other", "taker", t0, t0.Add(time.Minute))
	mustOK(t, err)
	renewed, err := b.RenewLeases(ctx, []store.Lease{holder, taker, other}, t0.Add(time.Hour))
	if err != nil || len(renewed) != 2 || renewed[0].Name != name || renewed[1].Name != "other" || !renewed[0].Expires.Equal(t0.Add(time.Hour)) {
		t.Fatalf("RenewLeases = %+v, %v", renewed, err)
	}
	mustOK(t, a.RemoveReplica(ctx, "taker"))
	ls, err := b.ListLeases(ctx, "webhook/")
	if err != nil || len(ls) != 1 || ls[0].Owner != "" || ls[0].Epoch != taker.Epoch {
		t.Fatalf("after RemoveReplica: %+v, %v", ls, err)
	}
	again, err := b.AcquireLease(ctx, name, "taker", t0, t0.Add(time.Minute))
	if err != nil || again.Epoch != taker.Epoch+1 {
		t.Fatalf("re-acquiring a freed lease = %+v, %v; want epoch %d", again, err, taker.Epoch+1)
	}
}

func TestLoginFailuresCountOnEveryReplica(t *testing.T) {
	t.Parallel()
	a, b := openPair(t)
	ctx := t.Context()
	mustOK(t, a.CreateOrg(ctx, store.Org{ID: "o", Name: "o"}))
	mustOK(t, a.CreatePortal(ctx, store.Portal{ID: "p", OrgID: "o", Name: "p", DefaultDomain: "p.example"}))
	mustOK(t, a.CreateDeveloper(ctx, store.Developer{ID: "d", PortalID: "p", OrgID: "o", Email: "d@example.com"}))
	const n = 20
	p := store.LockoutPolicy{MaxFailures: 1000, Window: time.Hour, Duration: time.Hour}
	errs := race(n, a, b, func(i int, s *Store) error {
		// One instant for all: CountFailure restarts the window for a
		// failure older than the window's start.
		_, err := s.RecordLoginFailure(ctx, "p", "d", t0, p)
		return err
	})
	for _, err := range errs {
		mustOK(t, err)
	}
	d, err := b.GetDeveloper(ctx, "p", "d")
	if err != nil || d.FailedLogins != n {
		t.Fatalf("FailedLogins = %d (%v), want %d", d.FailedLogins, err, n)
	}
	mustOK(t, a.ClearLoginFailures(ctx, "p", "d"))
	if d, _ := b.GetDeveloper(ctx, "p", "d"); d.FailedLogins != 0 || !d.FailedSince.IsZero() || d.Email != "d@example.com" {
		t.Fatalf("after ClearLoginFailures: %+v", d)
	}
	if _, err := a.RecordLoginFailure(ctx, "p", "nobody", t0, p); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("RecordLoginFailure of an unknown developer: %v", err)
	}
}

func TestRateBucketHoldsAcrossReplicas(t *testing.T) {
	t.Parallel()
	a, b := openPair(t)
	ctx := t.Context()
	l := store.RateLimit{Every: time.Minute, Burst: 5}
	oks := race(20, a, b, func(i int, s *Store) bool {
		ok, _, err := s.TakeRateToken(ctx, "login:1.2.3.4", t0, l)
		if err != nil {
			t.Error(err)
		}
		return ok
	})
	n := 0
	for _, ok := range oks {
		if ok {
			n++
		}
	}
	if n != l.Burst {
		t.Fatalf("%d of 20 concurrent requests passed, want the burst of %d", n, l.Burst)
	}
	ok, wait, err := a.TakeRateToken(ctx, "login:1.2.3.4", t0, l)
	if err != nil || ok || wait != time.Minute {
		t.Fatalf("after the burst: ok %v wait %s err %v; want a minute's wait", ok, wait, err)
	}
	if n, err := b.DeleteIdleRateBuckets(ctx, t0.Add(4*time.Minute)); err != nil || n != 0 {
		t.Fatalf("DeleteIdleRateBuckets before the bucket is full = %d, %v", n, err)
	}
	if n, err := b.DeleteIdleRateBuckets(ctx, t0.Add(5*time.Minute)); err != nil || n != 1 {
		t.Fatalf("DeleteIdleRateBuckets once full = %d, %v", n, err)
	}
}

func TestConcurrentKeyRotationsLeaveOneActiveKey(t *testing.T) {
	t.Parallel()
	a, b := openPair(t)
	ctx := t.Context()
	errs := race(6, a, b, func(i int, s *Store) error {
		return s.AddSigningKey(ctx, store.SigningKey{ID: fmt.Sprint("k", i), PrivateKey: make([]byte, 64), CreatedAt: t0.Add(time.Duration(i) * time.Second)})
	})
	for _, err := range errs {
		mustOK(t, err)
	}
	keys, err := a.ListSigningKeys(ctx)
	mustOK(t, err)
	active := 0
	for _, k := range keys {
		if k.RetiredAt.IsZero() {
			active++
		}
	}
	if len(keys) != 6 || active != 1 {
		t.Fatalf("%d keys, %d active; want 6 and 1", len(keys), active)
	}
}

func TestPeriodicClaimedOncePerPeriod(t *testing.T) {
	t.Parallel()
	a, b := openPair(t)
	ctx := t.Context()
	for period := range 3 {
		now := t0.Add(time.Duration(period) * time.Hour)
		claims := race(8, a, b, func(i int, s *Store) bool {
			ok, err := s.ClaimPeriodic(ctx, "retention", now.Add(time.Duration(i)*time.Millisecond), time.Hour-time.Second)
			if err != nil {
				t.Error(err)
			}
			return ok
		})
		n := 0
		for _, ok := range claims {
			if ok {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("period %d: %d claims, want 1", period, n)
		}
	}
}

// Appends racing from two replicas to the same streams stay dense, and a
// reader following one stream never sees a gap that fills later.
func TestAppendsFromTwoReplicasAreDenseAndNeverFillGaps(t *testing.T) {
	t.Parallel()
	a, b := openPair(t)
	ctx := t.Context()
	streams := []store.StreamID{"x", "y", "z"}
	const workers, rounds = 16, 25
	stop := make(chan struct{})
	readerErr := make(chan error, 1)
	go func() {
		// Read x past the cursor again and again: once seq n is seen, every
		// seq below it must have been seen already.
		var cursor int64
		for {
			select {
			case <-stop:
				readerErr <- nil
				return
			default:
			}
			es, err := b.Read(ctx, "x", cursor, 100)
			if err != nil {
				readerErr <- err
				return
			}
			for _, e := range es {
				if e.Seq != cursor+1 {
					readerErr <- fmt.Errorf("reader at %d saw seq %d", cursor, e.Seq)
					return
				}
				cursor = e.Seq
			}
		}
	}()
	race(workers, a, b, func(w int, s *Store) error {
		for r := range rounds {
			batch := []store.NewEntry{testEntry(streams[(w+r)%3], "a"), testEntry(streams[(w+r+1)%3], "b")}
			if _, err := s.Append(ctx, batch); err != nil {
				t.Error(err)
				return err
			}
		}
		return nil
	})
	close(stop)
	mustOK(t, <-readerErr)
	total := 0
	for _, st := range streams {
		es, err := a.Read(ctx, st, 0, 0)
		mustOK(t, err)
		for i, e := range es {
			if e.Seq != int64(i+1) {
				t.Fatalf("%s: entry %d has seq %d", st, i, e.Seq)
			}
		}
		total += len(es)
	}
	if total != workers*rounds*2 {
		t.Fatalf("%d entries stored, want %d", total, workers*rounds*2)
	}
}
