package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// This file holds the tests of each group that race two handles on one
// database (Backend.OpenPair); their groups call them.

func testEventLogTwoHandles(t *testing.T, b Backend) {
	t.Run("TwoHandlesAppendDenseAndReadersNeverSkip", func(t *testing.T) {
		t.Parallel()
		sa, sb := b.OpenPair(t)
		st := store.StreamID(newID(t))
		const perHandle, perWorker = 4, 200
		const total = 2 * perHandle * perWorker
		sizes := []int{1, 3, 2, 7, 1, 5, 16}
		type ack struct {
			seq   int64
			trace string
		}
		acks := make([][]ack, 2*perHandle)

		// A reader follows the stream as a dispatcher does: read after the
		// cursor, move it to the last entry read. Each batch must start
		// right after the cursor: a hole it skipped could fill in later (an
		// entry committing late) and would never be sent.
		appended, readerDone := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(readerDone)
			cursor := int64(0)
			for i := 0; cursor < total; i++ {
				finished := isClosed(appended)
				s := sa
				if i%2 == 1 {
					s = sb
				}
				got, err := s.Read(ctxT(t), st, cursor, 64)
				if err != nil {
					t.Errorf("Read: %v", err)
					return
				}
				for k, e := range got {
					if e.Seq != cursor+int64(k)+1 {
						t.Errorf("Read after %d returned seqs %v: the reader would step past %d", cursor, seqsOf(got), cursor+int64(k)+1)
						return
					}
				}
				if len(got) > 0 {
					cursor = got[len(got)-1].Seq
					continue
				}
				if finished {
					t.Errorf("the reader stopped at %d of %d", cursor, total)
					return
				}
				time.Sleep(100 * time.Microsecond)
			}
		}()

		race(sa, sb, perHandle, func(s store.Store, i int) {
			last := int64(0)
			for r, left := 0, perWorker; left > 0; r++ {
				n := min(sizes[(i+r)%len(sizes)], left)
				batch := make([]store.NewEntry, n)
				for k := range batch {
					batch[k] = entry(st, audit.KindAccess, at(time.Duration(r)*time.Millisecond), fmt.Sprintf("w%d-r%d-%d", i, r, k))
				}
				seqs, err := s.Append(ctxT(t), batch)
				if err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				if len(seqs) != n {
					t.Errorf("Append of %d entries returned %d seqs", n, len(seqs))
					return
				}
				for k, seq := range seqs {
					if seq <= last {
						t.Errorf("worker %d: seq %d after %d: not increasing", i, seq, last)
					}
					last = seq
					acks[i] = append(acks[i], ack{seq, batch[k].Entry.TraceID})
				}
				left -= n
			}
		})
		close(appended)
		<-readerDone
		if t.Failed() {
			t.FailNow()
		}

		bySeq := map[int64]string{}
		for _, as := range acks {
			for _, a := range as {
				if prev, dup := bySeq[a.seq]; dup {
					t.Fatalf("seq %d given twice (%s and %s)", a.seq, prev, a.trace)
				}
				bySeq[a.seq] = a.trace
			}
		}
		if len(bySeq) != total {
			t.Fatalf("%d entries acknowledged, want %d", len(bySeq), total)
		}
		for _, s := range []store.Store{sa, sb} {
			got, err := s.Read(ctxT(t), st, 0, 0)
			must(t, err, "Read")
			if len(got) != total {
				t.Fatalf("the stream holds %d entries, %d were acknowledged", len(got), total)
			}
			for i, e := range got {
				if e.Seq != int64(i+1) {
					t.Fatalf("entry %d has seq %d: not dense", i, e.Seq)
				}
				if bySeq[e.Seq] != e.Entry.TraceID {
					t.Fatalf("seq %d holds %q, Append acknowledged %q", e.Seq, e.Entry.TraceID, bySeq[e.Seq])
				}
			}
			if last, err := s.LastSeq(ctxT(t), st); err != nil || last != total {
				t.Fatalf("LastSeq = %d, %v; want %d", last, err, total)
			}
		}
		// Both handles go on numbering where the other stopped.
		for i, s := range []store.Store{sa, sb, sa} {
			seqs, err := s.Append(ctxT(t), []store.NewEntry{entry(st, audit.KindAccess, at(time.Hour), fmt.Sprint("after-", i))})
			must(t, err, "Append")
			if want := int64(total + 1 + i); seqs[0] != want {
				t.Fatalf("append %d after the race got seq %d, want %d", i, seqs[0], want)
			}
		}
	})
}

// testRetentionTwoHandles: a handle that appended to a stream must not
// number from what it remembers once the other handle appended and
// retention deleted those entries: no entry collides, yet numbers would be
// given twice and a cursor past them would skip the new entries.
func testRetentionTwoHandles(t *testing.T, b Backend) {
	t.Run("TwoHandlesRetentionNeverLowersNumbering", func(t *testing.T) {
		t.Parallel()
		sa, sb := b.OpenPair(t)
		st := store.StreamID(newID(t))
		old := func(s store.Store, n int) []int64 {
			t.Helper()
			var in []store.NewEntry
			for i := range n {
				in = append(in, entry(st, audit.KindAccess, at(time.Duration(i)*time.Millisecond), fmt.Sprint("old-", i)))
			}
			seqs, err := s.Append(ctxT(t), in)
			must(t, err, "Append")
			return seqs
		}
		old(sa, 1)
		if seqs := old(sb, 5); seqs[0] != 2 || seqs[4] != 6 {
			t.Fatalf("B appended %v, want 2..6", seqs)
		}
		n, err := sb.DeleteBefore(ctxT(t), at(time.Hour), 100)
		must(t, err, "DeleteBefore")
		if n != 6 {
			t.Fatalf("DeleteBefore deleted %d, want 6", n)
		}
		seqs, err := sa.Append(ctxT(t), []store.NewEntry{entry(st, audit.KindAccess, at(2*time.Hour), "new")})
		must(t, err, "Append")
		if seqs[0] != 7 {
			t.Fatalf("A appended after the other handle's entries were deleted with seq %d, want 7", seqs[0])
		}
		for _, s := range []store.Store{sa, sb} {
			if last, err := s.LastSeq(ctxT(t), st); err != nil || last != 7 {
				t.Fatalf("LastSeq = %d, %v; want 7", last, err)
			}
		}
	})
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func testDevelopersTwoHandles(t *testing.T, b Backend) {
	policy := store.LockoutPolicy{MaxFailures: 5, Window: 15 * time.Minute, Duration: 30 * time.Minute}

	t.Run("RecordLoginFailureAppliesThePolicy", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		o := mkOrg(t, s)
		p := mkPortal(t, s, o.ID)
		d := mkDeveloper(t, s, p, "dev@example.com")
		base := at(2 * time.Hour)
		minute := func(n int) time.Time { return base.Add(time.Duration(n) * time.Minute) }
		steps := []struct {
			name   string
			now    time.Time
			count  int
			since  time.Time
			locked time.Time
		}{
			{"the first failure opens the window", minute(0), 1, minute(0), time.Time{}},
			{"inside the window", minute(5), 2, minute(0), time.Time{}},
			{"the window ended: counting restarts", minute(15), 1, minute(15), time.Time{}},
			{"2", minute(16), 2, minute(15), time.Time{}},
			{"3", minute(17), 3, minute(15), time.Time{}},
			{"4", minute(18), 4, minute(15), time.Time{}},
			{"the fifth locks and restarts the count", minute(19), 0, time.Time{}, minute(49)},
			{"a failure while locked counts anew", minute(20), 1, minute(20), minute(49)},
		}
		for _, c := range steps {
			got, err := s.RecordLoginFailure(ctxT(t), p.ID, d.ID, c.now, policy)
			must(t, err, "RecordLoginFailure "+c.name)
			stored, err := s.GetDeveloper(ctxT(t), p.ID, d.ID)
			must(t, err, "GetDeveloper")
			if !same(got, stored) {
				t.Fatalf("%s: RecordLoginFailure returned %+v, stored is %+v", c.name, got, stored)
			}
			want := d
			want.FailedLogins, want.FailedSince, want.LockedUntil, want.UpdatedAt = c.count, c.since, c.locked, got.UpdatedAt
			if !same(got, want) {
				t.Fatalf("%s: %+v, want %+v", c.name, got, want)
			}
		}
		_, err := s.RecordLoginFailure(ctxT(t), p.ID, newID(t), base, policy)
		wantCode(t, err, apperr.NotFound, "RecordLoginFailure of an unknown developer")
		q := mkPortal(t, s, o.ID)
		_, err = s.RecordLoginFailure(ctxT(t), q.ID, d.ID, base, policy)
		wantCode(t, err, apperr.NotFound, "RecordLoginFailure through another portal")
		wantCode(t, s.ClearLoginFailures(ctxT(t), q.ID, d.ID), apperr.NotFound, "ClearLoginFailures through another portal")
		wantCode(t, s.ClearLoginFailures(ctxT(t), p.ID, newID(t)), apperr.NotFound, "ClearLoginFailures of an unknown developer")
	})

	t.Run("ConcurrentLoginFailuresAllCount", func(t *testing.T) {
		t.Parallel()
		sa, sb := b.OpenPair(t)
		o := mkOrg(t, sa)
		p := mkPortal(t, sa, o.ID)
		d := mkDeveloper(t, sa, p, "dev@example.com")
		now := at(2 * time.Hour)
		const perHandle = 6 // 12 failures: two locks, then 2 counted
		got := make([]store.Developer, 2*perHandle)
		race(sa, sb, perHandle, func(s store.Store, i int) {
			var err error
			if got[i], err = s.RecordLoginFailure(ctxT(t), p.ID, d.ID, now, policy); err != nil {
				t.Errorf("RecordLoginFailure: %v", err)
			}
		})
		if t.Failed() {
			t.FailNow()
		}
		// The failures, one after another, give each call one count: a
		// lost update would repeat one and miss another.
		want := d
		var wantCounts, gotCounts []int
		locks := 0
		for i := range got {
			policy.CountFailure(&want, now)
			wantCounts = append(wantCounts, want.FailedLogins)
			gotCounts = append(gotCounts, got[i].FailedLogins)
			if got[i].FailedLogins == 0 {
				locks++
			}
		}
		slices.Sort(wantCounts)
		slices.Sort(gotCounts)
		if !slices.Equal(gotCounts, wantCounts) {
			t.Fatalf("the racing calls returned counts %v, want %v", gotCounts, wantCounts)
		}
		if locks != len(got)/policy.MaxFailures {
			t.Fatalf("%d calls locked the account, want %d", locks, len(got)/policy.MaxFailures)
		}
		stored, err := sb.GetDeveloper(ctxT(t), p.ID, d.ID)
		must(t, err, "GetDeveloper")
		want.UpdatedAt = stored.UpdatedAt
		if !same(stored, want) {
			t.Fatalf("after %d concurrent failures: %+v, want %+v", len(got), stored, want)
		}
		if !policy.Locked(stored, now) || stored.FailedLogins != 2 {
			t.Fatalf("after %d concurrent failures: locked until %v with %d failures, want locked with 2", len(got), stored.LockedUntil, stored.FailedLogins)
		}

		// A successful login clears the count and the lock and nothing else.
		must(t, sa.ClearLoginFailures(ctxT(t), p.ID, d.ID), "ClearLoginFailures")
		cleared, err := sb.GetDeveloper(ctxT(t), p.ID, d.ID)
		must(t, err, "GetDeveloper")
		want = stored
		want.FailedLogins, want.FailedSince, want.LockedUntil = 0, time.Time{}, time.Time{}
		if !same(cleared, want) {
			t.Fatalf("after ClearLoginFailures: %+v, want %+v", cleared, want)
		}
	})
}

func testSigningKeysTwoHandles(t *testing.T, b Backend) {
	t.Run("ConcurrentRotationsLeaveOneActiveKey", func(t *testing.T) {
		t.Parallel()
		sa, sb := b.OpenPair(t)
		const perHandle = 4
		for round := range 3 { // the first round starts with no key at all
			race(sa, sb, perHandle, func(s store.Store, i int) {
				k := store.SigningKey{ID: fmt.Sprintf("r%d-k%d", round, i), PrivateKey: bytes.Repeat([]byte{byte(round*16 + i)}, 64),
					CreatedAt: at(time.Duration(round)*time.Hour + time.Duration(i)*time.Millisecond)}
				if err := s.AddSigningKey(ctxT(t), k); err != nil {
					t.Errorf("AddSigningKey %s: %v", k.ID, err)
				}
			})
			keys, err := sb.ListSigningKeys(ctxT(t))
			must(t, err, "ListSigningKeys")
			if want := (round + 1) * 2 * perHandle; len(keys) != want {
				t.Fatalf("round %d: %d keys, want %d", round, len(keys), want)
			}
			created := map[time.Time]bool{}
			for _, k := range keys {
				created[k.CreatedAt.UTC()] = true
			}
			var active []string
			for _, k := range keys {
				if k.RetiredAt.IsZero() {
					active = append(active, k.ID)
				} else if !created[k.RetiredAt.UTC()] {
					t.Errorf("round %d: key %s retired at %v, when no key was added", round, k.ID, k.RetiredAt)
				}
			}
			if len(active) != 1 {
				t.Fatalf("round %d: active keys %v, want exactly one", round, active)
			}
		}
	})
}

func testReplayJobsTwoHandles(t *testing.T, b Backend) {
	t.Run("ConcurrentPutsOverTwoHandlesOneWins", func(t *testing.T) {
		t.Parallel()
		sa, sb := b.OpenPair(t)
		o := mkOrg(t, sa)
		st := store.StreamID(o.ID)
		const perHandle = 4
		jobs := make([]store.ReplayJob, 2*perHandle)
		errs := make([]error, 2*perHandle)
		race(sa, sb, perHandle, func(s store.Store, i int) {
			jobs[i] = store.ReplayJob{Stream: st, OrgID: o.ID, StartAt: at(time.Duration(i) * time.Minute), EndAt: at(time.Hour),
				Status: store.JobAccepted, CreatedAt: at(time.Duration(i) * time.Second), UpdatedAt: at(0)}
			errs[i] = s.PutReplayJob(ctxT(t), jobs[i])
		})
		winner := -1
		for i, err := range errs {
			if err == nil {
				if winner >= 0 {
					t.Fatalf("PutReplayJob %d and %d both succeeded", winner, i)
				}
				winner = i
				continue
			}
			wantCode(t, err, apperr.Conflict, "racing PutReplayJob")
		}
		if winner < 0 {
			t.Fatal("no racing PutReplayJob succeeded")
		}
		for _, s := range []store.Store{sa, sb} {
			got, err := s.GetReplayJob(ctxT(t), st)
			must(t, err, "GetReplayJob")
			if !same(got, jobs[winner]) {
				t.Fatalf("stored job %+v, want the winner's %+v", got, jobs[winner])
			}
		}
	})
}
