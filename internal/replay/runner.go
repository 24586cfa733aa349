package replay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/delivery"
	"github.com/sigtrail/sigtrail/internal/store"
)

// Sender delivers one batch to a destination with the delivery retry
// policy; delivery.Manager implements it. An error means the batch was not
// accepted after every retry.
type Sender interface {
	SendBatch(ctx context.Context, dest store.Destination, entries []store.StoredEntry) error
}

// Config tunes the runner. Zero values take the defaults.
type Config struct {
	BatchSize  int // entries per batch; default 1000, the delivery batch cap
	MaxRunning int // jobs running at once; default 2, so replays never starve live delivery
	// Retention is how long entries are kept (default 7 days). A job whose
	// whole window has expired by the time it starts (say, after a long
	// stop) fails with that reason instead of completing with nothing sent.
	Retention time.Duration
	// StoreRetryWait is the pause before a job whose state could not be
	// read or saved (a store error) is taken up again; default 5 s. Without
	// it the job would stay accepted or running in the store, and every PUT
	// a 409, until the next restart.
	StoreRetryWait time.Duration

	// Replica names this process among replicas sharing one database. Empty
	// (the single-process server): this runner owns every job and writes
	// unfenced. Set: a job runs only on the replica holding its
	// store.ReplayLease, and every write of it is fenced by the lease.
	Replica string
	// LeaseTTL is how long a replay lease lasts unrenewed: how soon another
	// replica resumes the job of one that died; default 8 s.
	LeaseTTL time.Duration
	// RenewEvery is how often a running job's lease is renewed; default
	// 2 s, and less than LeaseTTL.
	RenewEvery time.Duration
	// RescanEvery is how often the active jobs are listed again, to resume
	// those whose owner died (its lease expired) and those whose change
	// notification was lost; default 3 s.
	RescanEvery time.Duration
}

func (c Config) withDefaults() Config {
	if c.BatchSize <= 0 {
		c.BatchSize = 1000
	}
	if c.MaxRunning <= 0 {
		c.MaxRunning = 2
	}
	if c.Retention <= 0 {
		c.Retention = DefaultRetention
	}
	if c.StoreRetryWait <= 0 {
		c.StoreRetryWait = 5 * time.Second
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 8 * time.Second
	}
	if c.RenewEvery <= 0 {
		c.RenewEvery = 2 * time.Second
	}
	if c.RenewEvery >= c.LeaseTTL {
		c.RenewEvery = c.LeaseTTL / 4
	}
	if c.RescanEvery <= 0 {
		c.RescanEvery = 3 * time.Second
	}
	return c
}

// Deps are the runner's outside parts.
type Deps struct {
	Store  store.Store
	Sender Sender
	Clock  clock.Clock
	Logger *slog.Logger
}

// Runner runs replay jobs, one goroutine per stream with a job, at most
// MaxRunning of them sending at a time.
type Runner struct {
	cfg  Config
	deps Deps
	sem  chan struct{}

	mu      sync.Mutex
	pending map[store.StreamID]bool // woken, not yet looked at by Run
	active  map[store.StreamID]bool // a worker owns the stream
	again   map[store.StreamID]bool // woken while its worker was busy
	signal  chan struct{}
}

// New returns a runner; call Run to start it.
func New(cfg Config, deps Deps) *Runner {
	cfg = cfg.withDefaults()
	if deps.Clock == nil {
		deps.Clock = clock.Real{}
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{
		cfg:     cfg,
		deps:    deps,
		sem:     make(chan struct{}, cfg.MaxRunning),
		pending: map[store.StreamID]bool{},
		active:  map[store.StreamID]bool{},
		again:   map[store.StreamID]bool{},
		signal:  make(chan struct{}, 1),
	}
}

// JobChanged tells the runner that the stream's job was created or
// replaced. It never blocks; calls before Run are remembered.
func (r *Runner) JobChanged(stream store.StreamID) {
	r.mu.Lock()
	r.pending[stream] = true
	r.mu.Unlock()
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

// Run resumes the jobs a previous process left unfinished, then runs new
// ones as JobChanged announces them, until ctx ends. Jobs interrupted by the
// end of ctx stay running in the store and resume at the next Run (or, on
// another replica, once their lease expires: leases are not released
// here, as RemoveReplica frees them at an orderly shutdown).
func (r *Runner) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	jobs, err := r.deps.Store.ListActiveReplayJobs(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	for _, j := range jobs {
		r.JobChanged(j.Stream)
	}
	if r.cfg.Replica != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.rescanLoop(ctx)
		}()
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.signal:
		}
		r.mu.Lock()
		for s := range r.pending {
			delete(r.pending, s)
			if r.active[s] {
				r.again[s] = true
				continue
			}
			r.active[s] = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.work(ctx, s)
			}()
		}
		r.mu.Unlock()
	}
}

// work runs the stream's job, and again if it was replaced meanwhile or
// stopped on a store error.
func (r *Runner) work(ctx context.Context, s store.StreamID) {
	for {
		again := r.attempt(ctx, s)
		r.mu.Lock()
		if (again || r.again[s]) && ctx.Err() == nil {
			delete(r.again, s)
			r.mu.Unlock()
			continue
		}
		delete(r.again, s)
		delete(r.active, s)
		r.mu.Unlock()
		return
	}
}

// attempt runs the stream's job once. It returns true when a store error
// left the job unfinished and the pause before taking it up again is over.
func (r *Runner) attempt(ctx context.Context, s store.StreamID) bool {
	if r.cfg.Replica != "" {
		return r.attemptLeased(ctx, s)
	}
	jr := &jobRun{log: r.deps.Logger.With("stream", string(s)), fence: store.NoFence}
	return !r.runJob(ctx, s, jr) && ctx.Err() == nil && r.pause(ctx, r.cfg.StoreRetryWait)
}

// jobRun is what the steps of one run of a job share.
type jobRun struct {
	log   *slog.Logger
	fence store.Fence // passed with every write of the job
	// lost, when set, stops the run because its lease was lost.
	lost func()
}

// pause waits d on the clock; false when ctx ended first.
func (r *Runner) pause(ctx context.Context, d time.Duration) bool {
	t := r.deps.Clock.NewTimer(d)
	select {
	case <-ctx.Done():
		t.Stop()
		return false
	case <-t.C():
		return true
	}
}

// runJob takes the stream's job from accepted to completed or failed. It
// returns false when a store error left the job unfinished in the store, to
// be taken up again.
func (r *Runner) runJob(ctx context.Context, s store.StreamID, jr *jobRun) bool {
	job, err := r.deps.Store.GetReplayJob(ctx, s)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return true
		}
		if ctx.Err() == nil {
			jr.log.Error("replay: reading the job", "err", err)
		}
		return false
	}
	switch job.Status {
	case store.JobAccepted:
		job.Status = store.JobPending
		if !r.save(ctx, jr, &job) {
			return false
		}
	case store.JobPending, store.JobRunning:
	default:
		return true // finished: nothing to do
	}

	select {
	case r.sem <- struct{}{}:
		defer func() { <-r.sem }()
	case <-ctx.Done():
		return false
	}

	if job.Status == store.JobPending {
		if job.EndAt.Before(r.deps.Clock.Now().Add(-r.cfg.Retention)) {
			return r.fail(ctx, jr, &job, "The window is older than the retention period; its entries are deleted")
		}
		// The job is bounded by the stream's end now: entries appended from
		// here on, even back-dated into the window, are live delivery's.
		high, err := r.deps.Store.LastSeq(ctx, job.Stream)
		if err != nil {
			return r.internalFailure(ctx, jr, &job, "reading the stream's end", err)
		}
		job.HighSeq = high
		total, err := r.deps.Store.Count(ctx, windowQuery(job))
		if err != nil {
			return r.internalFailure(ctx, jr, &job, "counting the window", err)
		}
		job.Status, job.Total, job.Sent, job.Cursor, job.Error = store.JobRunning, total, 0, 0, ""
		if !r.save(ctx, jr, &job) {
			return false
		}
		jr.log.Info("replay: running", "start_at", job.StartAt, "end_at", job.EndAt, "total", total)
	}
	return r.send(ctx, jr, &job)
}

// send re-sends the window after the job's cursor, batch by batch, saving
// the cursor after each batch so a restart repeats at most one batch. It
// returns false when the job was left unfinished (a store error, or ctx).
func (r *Runner) send(ctx context.Context, jr *jobRun, job *store.ReplayJob) bool {
	for {
		// The webhook is looked up for every batch: a replay goes where the
		// stream's webhook points now, and stops when it is disabled.
		dest, reason, err := r.destination(ctx, job.Stream, job.OrgID)
		if err != nil {
			return r.internalFailure(ctx, jr, job, "reading the webhook", err)
		}
		if reason != "" {
			return r.fail(ctx, jr, job, reason)
		}
		// The job covers the entries in the window up to HighSeq, the
		// stream's end when it started; entries appended since (even with a
		// time inside the window) are left to live delivery. Total-Sent also
		// bounds it, for jobs started before HighSeq was kept.
		var batch []store.StoredEntry
		if left := job.Total - job.Sent; left > 0 {
			q := windowQuery(*job)
			q.AfterSeq, q.Limit = job.Cursor, int(min(int64(r.cfg.BatchSize), left))
			if batch, err = r.deps.Store.Query(ctx, q); err != nil {
				return r.internalFailure(ctx, jr, job, "reading entries", err)
			}
		}
		if len(batch) == 0 {
			job.Status = store.JobCompleted
			if !r.save(ctx, jr, job) {
				return false
			}
			jr.log.Info("replay: completed", "sent", job.Sent, "total", job.Total)
			return true
		}
		if err := r.deps.Sender.SendBatch(ctx, dest, batch); err != nil {
			if ctx.Err() != nil {
				return false // shutting down: the job stays running and resumes
			}
			jr.log.Warn("replay: batch not delivered", "from_seq", batch[0].Seq, "err", err)
			return r.fail(ctx, jr, job, sendFailure(err))
		}
		job.Cursor = batch[len(batch)-1].Seq
		job.Sent += int64(len(batch))
		if !r.save(ctx, jr, job) {
			return false
		}
	}
}

// destination returns where the stream's webhook sends now, or a reason
// shown to the user why the replay cannot run.
func (r *Runner) destination(ctx context.Context, s store.StreamID, orgID string) (store.Destination, string, error) {
	w, err := r.deps.Store.GetWebhook(ctx, s)
	switch {
	case apperr.Is(err, apperr.NotFound):
		return store.Destination{}, "No audit log webhook is configured for this stream", nil
	case err != nil:
		return store.Destination{}, "", err
	case !w.Enabled:
		return store.Destination{}, "The audit log webhook is disabled; enable it to replay", nil
	case w.DestinationID == "":
		return store.Destination{}, "The audit log webhook has no destination", nil
	}
	d, err := r.deps.Store.GetDestination(ctx, orgID, w.DestinationID)
	if apperr.Is(err, apperr.NotFound) {
		return d, "The audit log webhook's destination no longer exists", nil
	}
	return d, "", err
}

// sendFailure is the reason shown for a batch the destination did not
// take: the destination's last answer when the sender names it (that is
// what the webhook status shows too), never an internal error's text.
func sendFailure(err error) string {
	var se *delivery.SendError
	if errors.As(err, &se) {
		if se.Status != 0 {
			return fmt.Sprintf("The destination did not accept the entries after all retries: it answered %d (%s)", se.Status, se.Message)
		}
		return "The destination did not accept the entries after all retries: " + se.Message
	}
	return "The destination did not accept the entries after all retries"
}

func windowQuery(j store.ReplayJob) store.EntryQuery {
	q := store.EntryQuery{Stream: j.Stream, From: j.StartAt, To: j.EndAt}
	if j.HighSeq > 0 {
		q.BeforeSeq = j.HighSeq + 1
	}
	return q
}

// save stores the job's new state; false means the runner must stop (the
// failure is logged, and the job is taken up again after StoreRetryWait
// or at the next start).
func (r *Runner) save(ctx context.Context, jr *jobRun, job *store.ReplayJob) bool {
	job.UpdatedAt = r.deps.Clock.Now().UTC()
	err := r.deps.Store.UpdateReplayJob(ctx, *job, jr.fence)
	switch {
	case err == nil:
		return true
	case errors.Is(err, store.ErrLeaseLost) && jr.lost != nil:
		// Another replica took the job over (this one was paused or cut
		// off): it resumes from the stored cursor; nothing here was saved.
		jr.log.Warn("replay: lease lost; another replica runs the job", "status", job.Status)
		jr.lost()
	case ctx.Err() == nil:
		jr.log.Error("replay: saving the job", "status", job.Status, "err", err)
	}
	return false
}

// fail ends the job with reason; false when that could not be saved.
func (r *Runner) fail(ctx context.Context, jr *jobRun, job *store.ReplayJob, reason string) bool {
	job.Status, job.Error = store.JobFailed, reason
	if !r.save(ctx, jr, job) {
		return false
	}
	jr.log.Warn("replay: failed", "reason", reason, "sent", job.Sent, "total", job.Total)
	return true
}

// internalFailure fails the job with a generic reason and logs the cause,
// unless the error only reflects the end of ctx.
func (r *Runner) internalFailure(ctx context.Context, jr *jobRun, job *store.ReplayJob, what string, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return false
	}
	jr.log.Error("replay: "+what, "err", err)
	return r.fail(ctx, jr, job, "An internal error stopped the replay; start it again")
}
