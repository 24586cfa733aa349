package storetest

import (
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

func testReplayJobs(t *testing.T, b Backend) {
	open := b.Open
	t.Run("PutGetUpdateList", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o, other := mkOrg(t, s), mkOrg(t, s)
		st := store.StreamID(o.ID)
		_, err := s.GetReplayJob(ctxT(t), st)
		wantCode(t, err, apperr.NotFound, "GetReplayJob unconfigured")
		j := store.ReplayJob{Stream: st, OrgID: o.ID, StartAt: at(-time.Hour), EndAt: at(0), Status: store.JobAccepted,
			CreatedAt: at(time.Second), UpdatedAt: at(time.Second)}
		must(t, s.PutReplayJob(ctxT(t), j), "PutReplayJob")
		got, err := s.GetReplayJob(ctxT(t), st)
		must(t, err, "GetReplayJob")
		if !same(got, j) {
			t.Fatalf("GetReplayJob = %+v, want %+v", got, j)
		}
		j.Status, j.Total, j.Sent, j.Cursor, j.HighSeq, j.UpdatedAt = store.JobRunning, 100, 40, 40, 977, at(time.Minute)
		must(t, s.UpdateReplayJob(ctxT(t), j, store.NoFence), "UpdateReplayJob")
		got, _ = s.GetReplayJob(ctxT(t), st)
		if !same(got, j) {
			t.Fatalf("after UpdateReplayJob: %+v, want %+v", got, j)
		}
		foreign := j
		foreign.OrgID = other.ID
		wantCode(t, s.UpdateReplayJob(ctxT(t), foreign, store.NoFence), apperr.NotFound, "UpdateReplayJob through another org")
		unknown := j
		unknown.Stream = store.StreamID(newID(t))
		wantCode(t, s.UpdateReplayJob(ctxT(t), unknown, store.NoFence), apperr.NotFound, "UpdateReplayJob unconfigured")

		p := mkPortal(t, s, o.ID)
		done := store.ReplayJob{Stream: store.StreamID(p.ID), OrgID: o.ID, PortalID: p.ID, StartAt: at(0), EndAt: at(time.Hour),
			Status: store.JobFailed, Error: "destination answered 401", CreatedAt: at(0), UpdatedAt: at(0)}
		must(t, s.PutReplayJob(ctxT(t), done), "PutReplayJob portal")
		active, err := s.ListActiveReplayJobs(ctxT(t))
		must(t, err, "ListActiveReplayJobs")
		if len(active) != 1 || !same(active[0], j) {
			t.Fatalf("ListActiveReplayJobs = %+v, want only the running one", active)
		}
		if got, _ := s.GetReplayJob(ctxT(t), store.StreamID(p.ID)); !same(got, done) {
			t.Fatalf("portal job = %+v, want %+v", got, done)
		}
	})

	t.Run("PutIsAConflictWhileAJobIsActive", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o := mkOrg(t, s)
		cases := []struct {
			status   string
			conflict bool
		}{
			{store.JobAccepted, true},
			{store.JobPending, true},
			{store.JobRunning, true},
			{store.JobCompleted, false},
			{store.JobFailed, false},
		}
		for _, c := range cases {
			st := store.StreamID(newID(t))
			first := store.ReplayJob{Stream: st, OrgID: o.ID, StartAt: at(0), EndAt: at(time.Hour), Status: c.status, CreatedAt: at(0), UpdatedAt: at(0)}
			must(t, s.PutReplayJob(ctxT(t), first), "PutReplayJob")
			next := first
			next.StartAt, next.Status, next.CreatedAt = at(time.Minute), store.JobAccepted, at(time.Hour)
			err := s.PutReplayJob(ctxT(t), next)
			got, _ := s.GetReplayJob(ctxT(t), st)
			if c.conflict {
				wantCode(t, err, apperr.Conflict, "PutReplayJob over a "+c.status+" job")
				if !same(got, first) {
					t.Errorf("a refused PutReplayJob changed the job: %+v", got)
				}
				continue
			}
			must(t, err, "PutReplayJob over a "+c.status+" job")
			if !same(got, next) {
				t.Errorf("after replacing a %s job: %+v, want %+v", c.status, got, next)
			}
		}
	})

	t.Run("ConcurrentPutsOneWins", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o := mkOrg(t, s)
		st := store.StreamID(o.ID)
		errs := make(chan error, 8)
		for i := range 8 {
			go func() {
				errs <- s.PutReplayJob(ctxT(t), store.ReplayJob{Stream: st, OrgID: o.ID, StartAt: at(time.Duration(i) * time.Minute),
					EndAt: at(time.Hour), Status: store.JobAccepted, CreatedAt: at(0), UpdatedAt: at(0)})
			}()
		}
		ok := 0
		for range 8 {
			err := <-errs
			if err == nil {
				ok++
				continue
			}
			wantCode(t, err, apperr.Conflict, "concurrent PutReplayJob")
		}
		if ok != 1 {
			t.Fatalf("%d concurrent PutReplayJob calls succeeded, want 1", ok)
		}
	})
	testReplayJobsTwoHandles(t, b)
}
