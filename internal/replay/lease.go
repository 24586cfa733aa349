package replay

import (
	"context"
	"errors"
	"log/slog"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

// errLeaseLost is the cause of a job run stopped because its lease moved
// to another replica (or could not be renewed before it expired).
var errLeaseLost = errors.New("replay: lease lost")

// attemptLeased runs the stream's job once if this replica can take its
// lease; another replica holding it is not an error (the rescan tries again
// once that lease expires). While the job runs the lease is renewed; when
// it is lost the run stops at once and writes nothing more (the writes are
// fenced). The lease is released when the job ends, not when ctx ends: a
// replica going away either frees all its leases (RemoveReplica) or dies,
// and then the lease expires.
func (r *Runner) attemptLeased(ctx context.Context, s store.StreamID) bool {
	log := r.deps.Logger.With("stream", string(s), "replica", r.cfg.Replica)
	now := r.deps.Clock.Now()
	l, err := r.deps.Store.AcquireLease(ctx, store.ReplayLease(s), r.cfg.Replica, now, now.Add(r.cfg.LeaseTTL))
	if err != nil {
		if !apperr.Is(err, apperr.Conflict) && ctx.Err() == nil {
			log.Error("replay: taking the job's lease", "err", err)
		}
		return false
	}
	jobCtx, cancel := context.WithCancelCause(ctx)
	held := make(chan struct{})
	go func() {
		defer close(held)
		r.hold(jobCtx, log, cancel, l)
	}()
	jr := &jobRun{log: log, fence: l.Epoch, lost: func() { cancel(errLeaseLost) }}
	done := r.runJob(jobCtx, s, jr)
	cancel(nil)
	<-held
	switch {
	case errors.Is(context.Cause(jobCtx), errLeaseLost), ctx.Err() != nil:
		return false
	case done:
		r.release(ctx, log, l)
		return false
	}
	// A store error: let any replica (this one included, after the pause)
	// take the job up again.
	r.release(ctx, log, l)
	return r.pause(ctx, r.cfg.StoreRetryWait)
}

// hold renews l every RenewEvery until ctx ends, and cancels the run with
// errLeaseLost once the lease is gone: taken by another replica, or not
// renewed by renewMargin before it expires (another may take it the moment
// it does, and a batch already on its way to the SIEM should be the last).
// Each renewal is bounded by that moment too, so a store that hangs cannot
// keep the run going past it.
func (r *Runner) hold(ctx context.Context, log *slog.Logger, cancel context.CancelCauseFunc, l store.Lease) {
	margin := r.cfg.LeaseTTL / 4
	for {
		if !r.pause(ctx, r.cfg.RenewEvery) {
			return
		}
		now := r.deps.Clock.Now()
		stopAt := l.Expires.Add(-margin)
		if !now.Before(stopAt) {
			log.Error("replay: the job's lease was not renewed in time; stopping the job", "expires", l.Expires)
			cancel(errLeaseLost)
			return
		}
		callCtx, callDone := context.WithTimeout(ctx, stopAt.Sub(now))
		got, err := r.deps.Store.RenewLeases(callCtx, []store.Lease{l}, now.Add(r.cfg.LeaseTTL))
		timedOut := callCtx.Err() != nil
		callDone()
		switch {
		case err == nil && len(got) == 1:
			l = got[0]
			continue
		case err == nil:
			log.Warn("replay: lease taken by another replica; stopping the job")
		case ctx.Err() != nil:
			return
		case r.deps.Clock.Now().Before(stopAt) && !timedOut:
			log.Warn("replay: renewing the job's lease", "err", err, "expires", l.Expires)
			continue
		default:
			log.Error("replay: the job's lease was not renewed in time; stopping the job", "err", err, "expires", l.Expires)
		}
		cancel(errLeaseLost)
		return
	}
}

// release frees l so that the next job of the stream can start on any
// replica at once. A failure only delays that until the lease expires.
func (r *Runner) release(ctx context.Context, log *slog.Logger, l store.Lease) {
	if err := r.deps.Store.ReleaseLease(ctx, l); err != nil && ctx.Err() == nil {
		log.Warn("replay: releasing the job's lease", "err", err)
	}
}

// rescanLoop lists the active jobs every RescanEvery until ctx ends, and
// wakes a worker for each one no live replica holds: its owner died, or
// its notification was lost.
func (r *Runner) rescanLoop(ctx context.Context) {
	for r.pause(ctx, r.cfg.RescanEvery) {
		if err := r.rescan(ctx); err != nil && ctx.Err() == nil {
			r.deps.Logger.Warn("replay: rescanning active jobs", "err", err)
		}
	}
}

func (r *Runner) rescan(ctx context.Context) error {
	jobs, err := r.deps.Store.ListActiveReplayJobs(ctx)
	if err != nil || len(jobs) == 0 {
		return err
	}
	// One read of the leases spares a failing AcquireLease write per job
	// that another live replica runs.
	leases, err := r.deps.Store.ListLeases(ctx, store.ReplayLease(""))
	if err != nil {
		return err
	}
	now := r.deps.Clock.Now()
	busy := map[string]bool{}
	for _, l := range leases {
		busy[l.Name] = l.Owner != "" && l.Owner != r.cfg.Replica && l.Expires.After(now)
	}
	woke := false
	r.mu.Lock()
	for _, j := range jobs {
		if !busy[store.ReplayLease(j.Stream)] && !r.active[j.Stream] {
			r.pending[j.Stream] = true
			woke = true
		}
	}
	r.mu.Unlock()
	if woke {
		select {
		case r.signal <- struct{}{}:
		default:
		}
	}
	return nil
}
