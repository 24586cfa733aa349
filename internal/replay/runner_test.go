package replay

import (
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

func TestReplaySendsTheWindowOnlyAndLeavesTheLiveCursor(t *testing.T) {
	t.Parallel()
	f := newFixture(t, filepath.Join(t.TempDir(), "db"))
	ctx := context.Background()
	start, end := t0.Add(-time.Hour), t0.Add(-time.Minute)
	// Appended out of time order: the window is chosen by time, not by seq.
	late := f.appendAt(t, "late", times(end.Add(time.Millisecond), time.Second, 10))
	early := f.appendAt(t, "early", times(start.Add(-time.Hour), time.Second, 50))
	in := f.appendAt(t, "in", times(start, time.Second, 2500))
	edge := f.appendAt(t, "edge", []time.Time{end})
	want := append(in, edge...)

	before, err := f.st.GetWebhookState(ctx, store.StreamID(f.org))
	if err != nil {
		t.Fatal(err)
	}
	f.putJob(t, start, end)
	r, _ := f.start(t, Config{BatchSize: 1000}, f.sender)
	r.JobChanged(store.StreamID(f.org))
	j := f.waitJob(t, "completion", isDone)

	if j.Status != store.JobCompleted || j.Error != "" {
		t.Fatalf("job %+v, want completed", j)
	}
	if j.Total != int64(len(want)) || j.Sent != j.Total {
		t.Errorf("sent %d of %d, want %d of %d", j.Sent, j.Total, len(want), len(want))
	}
	got := f.sink.received()
	for _, id := range want {
		if got[id] != 1 {
			t.Fatalf("entry %s received %d times, want once", id, got[id])
		}
	}
	for _, id := range append(late, early...) {
		if got[id] != 0 {
			t.Fatalf("entry %s outside the window was sent", id)
		}
	}
	after, err := f.st.GetWebhookState(ctx, store.StreamID(f.org))
	if err != nil {
		t.Fatal(err)
	}
	if after.Cursor != before.Cursor || !after.LastAttemptAt.Equal(before.LastAttemptAt) {
		t.Errorf("live webhook state moved: before %+v, after %+v", before, after)
	}
}

// Entries appended while a job runs are not part of it, even when their
// time lies in its window: the job sends the Total it counted at its start.
func TestReplayLeavesEntriesAppendedMeanwhile(t *testing.T) {
	t.Parallel()
	f := newFixture(t, filepath.Join(t.TempDir(), "db"))
	start := t0.Add(-time.Hour)
	before := f.appendAt(t, "before", times(start, time.Second, 150))
	f.sink.holdFrom.Store(2)
	f.putJob(t, start, t0)
	r, _ := f.start(t, Config{BatchSize: 100}, f.sender)
	r.JobChanged(store.StreamID(f.org))
	<-f.sink.held // the job is running and counted its window
	meanwhile := f.appendAt(t, "meanwhile", times(start.Add(time.Minute), time.Second, 30))
	f.sink.unhold()
	j := f.waitJob(t, "completion", isDone)
	if j.Status != store.JobCompleted || j.Total != 150 || j.Sent != 150 {
		t.Fatalf("job %+v, want completed with 150 of 150", j)
	}
	got := f.sink.received()
	for _, id := range before {
		if got[id] != 1 {
			t.Fatalf("entry %s received %d times, want once", id, got[id])
		}
	}
	for _, id := range meanwhile {
		if got[id] != 0 {
			t.Fatalf("entry %s appended during the job was sent", id)
		}
	}
}

// A job sends nothing above the stream's end when it started running: when
// retention deletes unsent entries of the window mid-job, entries appended
// back-dated into the window since do not take their place.
func TestReplayStopsAtTheStreamEndItStartedWith(t *testing.T) {
	t.Parallel()
	f := newFixture(t, filepath.Join(t.TempDir(), "db"))
	start := t0.Add(-time.Hour)
	kept := f.appendAt(t, "kept", times(start.Add(10*time.Minute), time.Second, 100))
	expiring := f.appendAt(t, "expiring", times(start, time.Second, 50))
	f.sink.holdFrom.Store(2)
	f.putJob(t, start, t0)
	r, _ := f.start(t, Config{BatchSize: 50}, f.sender)
	r.JobChanged(store.StreamID(f.org))
	<-f.sink.held // 50 sent, the next 50 in flight, 50 (the expiring ones) still to read
	if n, err := f.st.DeleteBefore(context.Background(), start.Add(time.Minute), 1000); err != nil || n != 50 {
		t.Fatalf("DeleteBefore: %d, %v; want the 50 expiring entries", n, err)
	}
	meanwhile := f.appendAt(t, "meanwhile", times(start.Add(2*time.Minute), time.Second, 50))
	f.sink.unhold()
	j := f.waitJob(t, "completion", isDone)
	if j.Status != store.JobCompleted || j.Total != 150 || j.Sent != 100 {
		t.Fatalf("job %+v, want completed with 100 of 150 sent", j)
	}
	got := f.sink.received()
	for _, id := range kept {
		if got[id] != 1 {
			t.Fatalf("entry %s received %d times, want once", id, got[id])
		}
	}
	for _, id := range append(expiring, meanwhile...) {
		if got[id] != 0 {
			t.Fatalf("entry %s was sent; it is deleted or appended after the job started", id)
		}
	}
}

// A destination that answers 500 fails the replay once the retries are
// spent; once it is back, a replay of the same window delivers every entry.
func TestReplayAfterDestinationOutage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, filepath.Join(t.TempDir(), "db"))
	f.advanceWhileWaiting(t)
	start, end := t0.Add(-6*time.Hour), t0
	ids := f.appendAt(t, "e", times(start.Add(time.Minute), 10*time.Second, 300))

	f.sink.failStatus.Store(500)
	f.putJob(t, start, end)
	r, _ := f.start(t, Config{BatchSize: 100}, f.sender)
	r.JobChanged(store.StreamID(f.org))
	j := f.waitJob(t, "failure", isDone)
	if j.Status != store.JobFailed || !strings.Contains(j.Error, "500") || j.Sent != 0 {
		t.Fatalf("while down: job %+v, want failed naming the 500 with nothing sent", j)
	}
	if n := f.sink.arrivals.Load(); n != 5 {
		t.Errorf("destination saw %d attempts, want 5 (first try and 4 retries)", n)
	}

	f.sink.failStatus.Store(0)
	f.putJob(t, start, end)
	r.JobChanged(store.StreamID(f.org))
	j = f.waitJob(t, "completion", func(j store.ReplayJob) bool { return j.Status == store.JobCompleted })
	if j.Sent != 300 || j.Total != 300 {
		t.Errorf("sent %d of %d, want 300 of 300", j.Sent, j.Total)
	}
	got := f.sink.received()
	for _, id := range ids {
		if got[id] != 1 {
			t.Fatalf("entry %s received %d times, want once", id, got[id])
		}
	}
}

func TestReplayFailsWithAReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cfg    Config
		start  time.Time
		setup  func(t *testing.T, f *fixture)
		reason string
	}{
		{name: "no webhook", setup: func(t *testing.T, f *fixture) {
			if err := f.st.DeleteWebhook(context.Background(), store.StreamID(f.org)); err != nil {
				t.Fatal(err)
			}
		}, reason: "No audit log webhook"},
		{name: "webhook disabled", setup: func(t *testing.T, f *fixture) {
			w, err := f.st.GetWebhook(context.Background(), store.StreamID(f.org))
			if err != nil {
				t.Fatal(err)
			}
			w.Enabled = false
			if err := f.st.PutWebhook(context.Background(), w); err != nil {
				t.Fatal(err)
			}
		}, reason: "disabled"},
		{name: "window expired before it ran", cfg: Config{Retention: time.Hour}, start: t0.Add(-3 * time.Hour),
			reason: "older than the retention period"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, filepath.Join(t.TempDir(), "db"))
			start := tc.start
			if start.IsZero() {
				start = t0.Add(-time.Hour)
			}
			f.appendAt(t, "e", times(start, time.Second, 10))
			if tc.setup != nil {
				tc.setup(t, f)
			}
			f.putJob(t, start, start.Add(time.Minute))
			r, _ := f.start(t, tc.cfg, f.sender)
			r.JobChanged(store.StreamID(f.org))
			j := f.waitJob(t, "failure", isDone)
			if j.Status != store.JobFailed || !strings.Contains(j.Error, tc.reason) {
				t.Fatalf("job %+v, want failed with a reason containing %q", j, tc.reason)
			}
			if n := len(f.sink.received()); n != 0 {
				t.Errorf("%d entries sent, want none", n)
			}
		})
	}
}

// A runner stopped in the middle of a job (a restart) leaves it running
// with its cursor; the next runner on the same database resumes it by
// itself and sends each entry once.
func TestReplayResumesAfterRestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "db")
	f := newFixture(t, path)
	start := t0.Add(-2 * time.Hour)
	ids := f.appendAt(t, "e", times(start, time.Second, 250))

	f.sink.holdFrom.Store(2) // the first batch passes, the second hangs
	f.putJob(t, start, t0)
	r, stop := f.start(t, Config{BatchSize: 100}, f.sender)
	r.JobChanged(store.StreamID(f.org))
	<-f.sink.held
	stop()

	j, err := f.st.GetReplayJob(context.Background(), store.StreamID(f.org))
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != store.JobRunning || j.Sent != 100 || j.Total != 250 || j.Cursor == 0 {
		t.Fatalf("after the stop: job %+v, want running with 100 of 250 sent", j)
	}

	// Restart: reopen the database, new sender, new runner, no JobChanged.
	f.st.Close()
	f.st = openStore(t, path)
	f.sink.holdFrom.Store(0)
	f.start(t, Config{BatchSize: 100}, f.newSender(t))
	j = f.waitJob(t, "completion", isDone)
	if j.Status != store.JobCompleted || j.Sent != 250 || j.Total != 250 {
		t.Fatalf("after the restart: job %+v, want completed with 250 of 250", j)
	}
	got := f.sink.received()
	for _, id := range ids {
		if got[id] != 1 {
			t.Fatalf("entry %s received %d times, want once", id, got[id])
		}
	}
}

// A job stored before Run starts is picked up from the store, unannounced.
func TestRunnerPicksUpStoredJobs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, filepath.Join(t.TempDir(), "db"))
	start := t0.Add(-time.Hour)
	f.appendAt(t, "e", times(start, time.Second, 5))
	f.putJob(t, start, t0)
	f.start(t, Config{}, f.sender)
	j := f.waitJob(t, "completion", isDone)
	if j.Status != store.JobCompleted || j.Sent != 5 || j.Total != 5 {
		t.Fatalf("job %+v, want completed with 5 of 5 sent", j)
	}
}

// flakyStore is the real store whose UpdateReplayJob fails on the calls
// numbered in failOn (from 1): a store outage at one step of a job.
type flakyStore struct {
	store.Store
	failOn map[int64]bool
	calls  atomic.Int64
}

func (s *flakyStore) UpdateReplayJob(ctx context.Context, j store.ReplayJob, fence store.Fence) error {
	if s.failOn[s.calls.Add(1)] {
		return apperr.New(apperr.Unavailable, "the store is unavailable")
	}
	return s.Store.UpdateReplayJob(ctx, j, fence)
}

// A store error while saving a job's step leaves it unfinished in the
// store; the runner takes it up again after StoreRetryWait rather than
// leaving it accepted or running (every PUT a 409) until a restart.
func TestReplayRecoversFromAStoreErrorWithoutARestart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		failOn int64 // which UpdateReplayJob call fails
		maxDup int   // entries that may arrive twice (a batch sent before its save failed)
	}{
		{"accepted to pending", 1, 0},
		{"pending to running", 2, 0},
		{"after the first batch", 3, 100},
		{"after the last batch", 5, 50},
		{"completed", 6, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, filepath.Join(t.TempDir(), "db"))
			f.advanceWhileWaiting(t)
			start := t0.Add(-time.Hour)
			ids := f.appendAt(t, "e", times(start, time.Second, 250))
			f.putJob(t, start, t0)
			st := &flakyStore{Store: f.st, failOn: map[int64]bool{tc.failOn: true}}
			r := New(Config{BatchSize: 100}, Deps{Store: st, Sender: f.sender, Clock: f.clk})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- r.Run(ctx) }()
			t.Cleanup(func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Run: %v", err)
				}
			})
			j := f.waitJob(t, "completion", isDone)
			if j.Status != store.JobCompleted || j.Sent != 250 || j.Total != 250 {
				t.Fatalf("job %+v, want completed with 250 of 250", j)
			}
			if st.calls.Load() < tc.failOn {
				t.Fatalf("only %d saves, the failure at save %d never happened", st.calls.Load(), tc.failOn)
			}
			got, dups := f.sink.received(), 0
			for _, id := range ids {
				if got[id] == 0 {
					t.Fatalf("entry %s never sent", id)
				}
				dups += got[id] - 1
			}
			if dups > tc.maxDup {
				t.Errorf("%d entries sent twice, want at most %d", dups, tc.maxDup)
			}
		})
	}
}

// With MaxRunning jobs sending, another stream's job waits as pending
// (scheduled, not yet running) and runs once a slot frees.
func TestReplayWaitsPendingForASlot(t *testing.T) {
	t.Parallel()
	f := newFixture(t, filepath.Join(t.TempDir(), "db"))
	ctx := context.Background()
	start := t0.Add(-time.Hour)
	f.appendAt(t, "a", times(start, time.Second, 10))

	// A second org on the same store whose webhook points at the same sink.
	other := newID(t)
	if err := f.st.CreateOrg(ctx, store.Org{ID: other, Name: "other", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	dest := store.Destination{ID: newID(t), OrgID: other, Name: "siem", Endpoint: f.sink.srv.URL,
		LogFormat: audit.FormatJSON, CreatedAt: t0, UpdatedAt: t0}
	if err := f.st.CreateDestination(ctx, dest); err != nil {
		t.Fatal(err)
	}
	if err := f.st.PutWebhook(ctx, store.Webhook{Stream: store.StreamID(other), OrgID: other, DestinationID: dest.ID,
		Enabled: true, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	e := store.NewEntry{Stream: store.StreamID(other), Entry: audit.Entry{Kind: audit.KindAuthentication, Time: start,
		Product: audit.ProductKonnect, ClassID: audit.AuthTypePAT, Name: string(audit.OutcomeSuccess), OrgID: other, TraceID: "b-0"}}
	if _, err := f.st.Append(ctx, []store.NewEntry{e}); err != nil {
		t.Fatal(err)
	}

	f.sink.holdFrom.Store(1) // the first job's first batch waits at the SIEM
	f.putJob(t, start, t0)
	r, _ := f.start(t, Config{MaxRunning: 1}, f.sender)
	r.JobChanged(store.StreamID(f.org))
	<-f.sink.held
	if err := f.st.PutReplayJob(ctx, store.ReplayJob{Stream: store.StreamID(other), OrgID: other, StartAt: start, EndAt: t0,
		Status: store.JobAccepted, CreatedAt: t0, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	r.JobChanged(store.StreamID(other))
	otherJob := func() store.ReplayJob {
		t.Helper()
		j, err := f.st.GetReplayJob(ctx, store.StreamID(other))
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	deadline := time.Now().Add(20 * time.Second)
	for otherJob().Status != store.JobPending {
		if time.Now().After(deadline) {
			t.Fatalf("second job %+v, want pending while the first runs", otherJob())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if j := f.waitJob(t, "the first job running", func(j store.ReplayJob) bool { return true }); j.Status != store.JobRunning {
		t.Fatalf("first job %+v, want running", j)
	}
	f.sink.unhold()
	f.waitJob(t, "the first job's completion", func(j store.ReplayJob) bool { return j.Status == store.JobCompleted })
	for otherJob().Status != store.JobCompleted {
		if time.Now().After(deadline) {
			t.Fatalf("second job %+v, want completed once the slot freed", otherJob())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if j := otherJob(); j.Sent != 1 || j.Total != 1 {
		t.Errorf("second job %+v, want 1 of 1 sent", j)
	}
}
