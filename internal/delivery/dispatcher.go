package delivery

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
)

// dispatcher delivers one webhook's stream. It sleeps on its wake channel
// while the stream is idle, so idle webhooks cost no CPU.
type dispatcher struct {
	m      *Manager
	stream store.StreamID
	hook   store.Webhook
	dest   store.Destination
	fence  store.Fence   // the epoch of the webhook lease this replica holds; NoFence when alone
	wake   chan struct{} // capacity 1: a wake-up is never lost, never queued twice
	cancel context.CancelFunc
	done   chan struct{}

	head    atomic.Int64 // highest sequence number known in the stream
	cursor  atomic.Int64
	nFailed atomic.Int64
	// pendingAt is when (on the injected clock) the first notification
	// since the dispatcher's last read arrived; zero when none has. The
	// coalescing wait runs from it (coalesce). pendMu makes clearing it
	// once caught up atomic with the look at head, so an entry notified
	// meanwhile keeps its time.
	pendMu    sync.Mutex
	pendingAt time.Time

	// recheck is set by Record when an append touching this stream failed
	// with its outcome unknown (see Manager.Record).
	recheck atomic.Bool
	// lost is set when a fenced write found the lease taken: the
	// dispatcher stops for good, a new one starts under a new fence.
	lost atomic.Bool

	// lastOK and lastOKAt coalesce the status writes of a run of 2xx
	// answers (see recordAttempt). Only the dispatcher goroutine uses them.
	lastOK   bool
	lastOKAt time.Time

	// Failed-range state, loaded by deliver; only the dispatcher goroutine
	// uses it.
	failed []store.SeqRange
	// healthy: the last attempt got a 2xx, so failed ranges may go at once.
	healthy bool
	// refused: the last resend got a non-retryable 4xx (413, 400, ...),
	// which may be about that range rather than the destination, so only
	// the probe tries it again: a live 2xx does not, or every new batch
	// would bring one more refused request.
	refused bool
	// probe re-sends the first failed chunk while the stream is idle and
	// the destination is not known to be healthy; probeWait is its next
	// wait, doubling from probeMin to probeMax and reset by a resend's 2xx.
	probe     alarm
	probeWait time.Duration
	// With strict ordering (strict.go): the failed attempts in a row at
	// the oldest unsent range, and the last of them.
	failures    int
	lastFailure answer
	// tailCP sends a checkpoint line of its own once the stream has been
	// idle with delivered entries no checkpoint covers (tailcheckpoint.go);
	// coveredTo is the size of the last checkpoint delivered.
	tailCP    alarm
	coveredTo int64
	// checkpointAt is when the last checkpoint line went into a batch
	// (sequence.go); only the dispatcher goroutine uses it.
	checkpointAt time.Time
}

// Probe schedule: a failed range must not wait for a new entry that a
// quiet stream may not see before retention deletes the range.
const (
	probeMin = 30 * time.Second
	probeMax = 5 * time.Minute
)

// An append whose outcome is unknown (its context ended while SQLite may
// still be committing) is followed by a wake-up at once and rechecks after
// these waits, so entries committed late are not left for the next append.
const (
	recheckFirst = time.Second
	recheckLast  = 10 * time.Second
)

// alarm is an optional timer on the injected clock.
type alarm struct{ t clock.Timer }

func (a *alarm) set(c clock.Clock, d time.Duration) {
	a.stop()
	a.t = c.NewTimer(d)
}

// c is the timer's channel; nil (never ready) when unset.
func (a *alarm) c() <-chan time.Time {
	if a.t == nil {
		return nil
	}
	return a.t.C()
}

func (a *alarm) armed() bool { return a.t != nil }

// fired forgets a timer whose channel was read.
func (a *alarm) fired() { a.t = nil }

func (a *alarm) stop() {
	if a.t != nil {
		a.t.Stop()
		a.t = nil
	}
}

// statusWriteEvery bounds how often a run of 2xx answers rewrites an
// unchanged status: at a thousand small batches a second, one write per
// attempt would cost more than the deliveries.
const statusWriteEvery = time.Second

// storeRetryWait is the pause after a store error before the dispatcher
// reloads its state and carries on.
const storeRetryWait = time.Second

// notify tells the dispatcher its stream has grown to seq.
func (d *dispatcher) notify(seq int64) {
	d.raiseHead(seq)
	d.pendMu.Lock()
	if d.pendingAt.IsZero() {
		d.pendingAt = d.m.clock.Now()
	}
	d.pendMu.Unlock()
	d.poke()
}

// poke wakes the dispatcher without news of the head.
func (d *dispatcher) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *dispatcher) raiseHead(seq int64) {
	for {
		h := d.head.Load()
		if seq <= h || d.head.CompareAndSwap(h, seq) {
			return
		}
	}
}

// stopped reports whether run has returned (its lease was lost).
func (d *dispatcher) stopped() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

func (d *dispatcher) progress() (lag, failed int64) {
	return max(d.head.Load()-d.cursor.Load(), 0), d.nFailed.Load()
}

func (d *dispatcher) run(ctx context.Context) {
	defer close(d.done)
	gone := false
	for {
		err := d.deliver(ctx)
		if errors.Is(err, errSettingsChanged) {
			return // the reload asked for starts the next one
		}
		if errors.Is(err, store.ErrLeaseLost) || d.lost.Load() {
			// Retrying cannot help: another replica delivers the stream.
			d.lost.Store(true)
			d.m.leaseLost(d)
			return
		}
		if ctx.Err() != nil {
			return
		}
		switch {
		case apperr.Is(err, apperr.NotFound):
			// The webhook was deleted under us; WebhookChanged will stop
			// this dispatcher. Say so once, not every second.
			if !gone {
				d.m.log.Warn("delivery: the webhook's state is gone; waiting to be stopped", "stream", d.stream)
			}
			gone = true
		default:
			gone = false
			d.m.log.Error("delivery: store error; resuming from the stored cursor",
				"stream", d.stream, "err", err)
		}
		t := d.m.clock.NewTimer(storeRetryWait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
	}
}

// deliver loads the stored state and sends until ctx ends or the store
// fails. Only a 2xx or a recorded failure moves the cursor, so whatever
// was in flight when it stops is sent again on the next start.
func (d *dispatcher) deliver(ctx context.Context) error {
	st := d.m.deps.Store
	state, err := st.GetWebhookState(ctx, d.stream)
	if err != nil {
		return err
	}
	head, err := st.LastSeq(ctx, d.stream)
	if err != nil {
		return err
	}
	d.raiseHead(head)
	cursor := state.Cursor
	d.cursor.Store(cursor)
	d.failed = append(d.failed[:0], state.FailedRanges...)
	d.nFailed.Store(int64(len(d.failed)))
	// A destination that answered 2xx last time gets its failed ranges at
	// once; otherwise they wait for its next 2xx or for the probe.
	d.healthy = state.Status == store.StatusActive
	d.refused = false
	d.lastOK = false
	d.probeWait = probeMin
	defer d.probe.stop()
	defer d.tailCP.stop()
	var recheck alarm
	defer recheck.stop()
	rechecks := 0

	d.failures = 0
	var ahead *batch // the batch after the one in flight, rendered meanwhile
	// smallAt is when the last batch that was not full was settled; zero
	// when the last one was full (the stream is busy, nothing to wait for).
	var smallAt time.Time
	// caughtUp: the batch just settled took the stream to its known head,
	// so there is nothing to read until a notification (or a recheck)
	// wakes the dispatcher; reading anyway cost a query per batch.
	caughtUp := false
	co := newCoalescer(d.m.cfg.CoalesceWait)
	for {
		if d.strict() && len(d.failed) > 0 {
			// Nothing newer goes before the failed ranges.
			if err := d.sendInOrder(ctx); err != nil {
				return err
			}
			continue
		}
		cur := ahead
		ahead = nil
		if cur == nil && !caughtUp {
			if err := d.coalesce(ctx, cursor, smallAt, co.wait); err != nil {
				return err
			}
			if cur, err = d.prepare(ctx, cursor); err != nil {
				return err
			}
		}
		caughtUp = false
		if cur == nil {
			if d.healthy && !d.refused && len(d.failed) > 0 {
				if err := d.resend(ctx, d.m.cfg.Retry.MaxRetries); err != nil {
					return err
				}
				continue
			}
			d.armProbe()
			if d.recheck.Swap(false) {
				rechecks = 2
				recheck.set(d.m.clock, recheckFirst)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-d.wake:
			case <-recheck.c():
				recheck.fired()
				if rechecks--; rechecks > 0 {
					recheck.set(d.m.clock, recheckLast)
				}
			case <-d.probe.c():
				if err := d.runProbe(ctx); err != nil {
					return err
				}
			case <-d.tailCP.c():
				if err := d.sendTailCheckpoint(ctx); err != nil {
					return err
				}
			}
			continue
		}
		if err := d.checkSettings(ctx); err != nil {
			return err
		}
		// Entries deleted between the cursor and this batch are lost; say
		// so before the batch can move the cursor past them, so a crash
		// in between cannot hide it.
		if err := d.recordHoles(ctx, cur.after, cur.entries[:1]); err != nil {
			return err
		}
		// Send this batch while the next one is read, rendered and signed:
		// the CPU work overlaps the round trip. The next batch only reads
		// the log; nothing about it is stored until this one is settled.
		// A batch that took all there was leaves nothing worth reading
		// ahead: the next one waits to coalesce (coalesce) instead, and
		// the request goes from this goroutine (a goroutine per request
		// cost two scheduler hand-offs a batch at trickle rates).
		small := cur.r.n == len(cur.entries) && len(cur.entries) < d.m.cfg.MaxBatchLines
		var next *batch
		var nextErr error
		send := func() sendResult {
			a, err := d.m.sender.sendRetrying(ctx, d.dest, cur.r.gz, d.recordAttempt(ctx))
			return sendResult{a, err}
		}
		var res sendResult
		if small {
			res = send()
		} else {
			done := make(chan sendResult, 1)
			go func() { done <- send() }()
			next, nextErr = d.prepare(ctx, cur.r.last)
			res = <-done
		}
		if res.err != nil {
			return res.err
		}
		// When the answer came: the coalescing wait's quiet spell counts
		// from here (smallAt), not from whenever the settling below ends.
		answeredAt := d.m.clock.Now()
		r := cur.r
		if res.a.ok() {
			if err := d.moveCursor(ctx, r.last, small); err != nil {
				return err
			}
			d.m.sender.observeDelivered(r, cur.entries, true)
			d.healthy = true
			if r.checkpoint {
				d.coveredTo = r.last
			}
			d.armTailCheckpoint(r.last)
		} else {
			rng := store.SeqRange{From: r.first, To: r.last}
			if err := st.AdvanceCursor(ctx, d.stream, d.fence, r.last, &rng); err != nil {
				return err
			}
			d.m.sender.observeFailed(r)
			d.m.log.Warn("delivery: batch failed; its range is kept for a later resend",
				"stream", d.stream, "from", rng.From, "to", rng.To, "status", res.a.status)
			d.failed = store.AddRange(d.failed, rng)
			d.nFailed.Store(int64(len(d.failed)))
			d.healthy = false
		}
		cursor = r.last
		d.cursor.Store(cursor)
		d.raiseHead(cursor) // entries committed by an append that reported an error
		if err := d.recordHoles(ctx, cur.entries[0].Seq, cur.entries[1:r.n]); err != nil {
			return err
		}
		if nextErr == nil {
			ahead = next
		}
		smallAt = time.Time{}
		if small {
			smallAt = answeredAt
			co.sent(r.n)
			caughtUp = d.caughtUp(cursor)
		}
		if d.strict() {
			if !res.a.ok() {
				// Go on from the waits the live attempts already made.
				d.lastFailure, d.failures = res.a, 1
				if res.a.retryable() {
					d.failures = d.m.cfg.Retry.MaxRetries + 1
				}
				ahead = nil // read again once the failed batch is through
			}
			continue
		}
		// Failed ranges go out between new batches, so a busy stream does
		// not starve them.
		if d.healthy && !d.refused && len(d.failed) > 0 {
			if err := d.resend(ctx, d.m.cfg.Retry.MaxRetries); err != nil {
				return err
			}
		}
		// A stream that never goes idle still gets its probe.
		d.armProbe()
		select {
		case <-d.probe.c():
			if err := d.runProbe(ctx); err != nil {
				return err
			}
		default:
		}
	}
}

// firstPending is pendingAt.
func (d *dispatcher) firstPending() time.Time {
	d.pendMu.Lock()
	defer d.pendMu.Unlock()
	return d.pendingAt
}

// caughtUp reports whether the stream's known head is at cursor, and then
// forgets pendingAt: what was notified since the read is in the batch
// just settled. notify raises head before it takes pendMu, so an entry
// notified while this runs is either seen here or sets pendingAt after.
func (d *dispatcher) caughtUp(cursor int64) bool {
	d.pendMu.Lock()
	defer d.pendMu.Unlock()
	if d.head.Load() > cursor {
		return false
	}
	d.pendingAt = time.Time{}
	return true
}

// coalesce holds the next batch, after a batch that was not full was
// settled at since, until its first entry has waited wait (the
// coalescer's) or a full batch is waiting, so entries that trickle in
// share a request. The wait runs from the first entry's arrival, not from
// the last send: that is what bounds the latency it adds, and at 50
// entries a second it makes batches of two or three where waiting from
// the send made batches of one. An entry after a quiet spell (more than
// two waits after the last batch) goes at once, as does one that came
// while nothing was known to be pending. An entry that arrives once the
// first has waited three quarters of the wait ends it early
// (rideArrival). One timer per wait; a wake-up costs a mutex, an atomic
// load and a clock read, so the cost does not grow with the entries that
// arrive.
func (d *dispatcher) coalesce(ctx context.Context, cursor int64, since time.Time, wait time.Duration) error {
	if since.IsZero() || wait <= 0 {
		return nil
	}
	full := int64(d.m.cfg.MaxBatchLines)
	var t clock.Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for {
		first := d.firstPending()
		if first.IsZero() || d.head.Load()-cursor >= full {
			return nil
		}
		if first.Sub(since) > 2*wait {
			return nil
		}
		if t == nil {
			left := first.Add(wait).Sub(d.m.clock.Now())
			if left <= 0 {
				return nil
			}
			t = d.m.clock.NewTimer(left)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C():
			return nil
		case <-d.wake:
			if rideArrival(first, d.m.clock.Now(), wait) {
				return nil
			}
		}
	}
}

// rideArrival reports whether a batch whose first entry arrived at first
// and may wait wait goes now, at another entry's arrival. Near the end of
// the wait the batch is sent with the ingest that woke the process
// instead of on a timer of its own a few milliseconds later: between
// trickling events the server is idle, and each time it wakes from idle
// the Go runtime's monitor thread spins for a millisecond or more (about
// 15 % of the server's CPU at 50 events/s, docs/performance.md). At 50
// events/s the batches hold as many entries as before (two) and leave
// sooner; at 200/s four or five instead of six.
func rideArrival(first, now time.Time, wait time.Duration) bool {
	return now.Sub(first) >= wait*rideAfterPct/100
}

// rideAfterPct is the share of the coalescing wait (in percent) after which
// an arriving entry takes the batch with it (rideArrival).
const rideAfterPct = 75

// moveCursor moves the cursor past a delivered batch. After a batch that
// was not full (entries trickle in) a store that can defers the move to
// its next transaction (store.CursorDeferrer), which at trickle rates
// saved a transaction per webhook request; a full batch's move is made at
// once, so a crash in a backlog re-sends at most the batch in flight.
func (d *dispatcher) moveCursor(ctx context.Context, seq int64, small bool) error {
	if dc, ok := d.m.deps.Store.(store.CursorDeferrer); ok && small && d.fence == store.NoFence {
		dc.DeferCursor(d.stream, seq)
		return nil
	}
	sctx, cancel := settleContext(ctx)
	defer cancel()
	return d.m.deps.Store.AdvanceCursor(sctx, d.stream, d.fence, seq, nil)
}

// armProbe starts the probe timer while failed ranges wait for a 2xx that
// may never come on its own, and stops it once there are none.
func (d *dispatcher) armProbe() {
	switch {
	case len(d.failed) == 0:
		d.probe.stop()
		d.probeWait = probeMin
	case d.healthy && !d.refused:
		// They go out at once; no probe needed.
	case !d.probe.armed():
		d.probe.set(d.m.clock, d.probeWait)
	}
}

// runProbe handles a fired probe: one attempt, since the probe is itself
// the retry and its backoff is far longer than the retry policy's. A 2xx
// makes the destination healthy again, so the rest follows at once.
func (d *dispatcher) runProbe(ctx context.Context) error {
	d.probe.fired()
	if err := d.resend(ctx, 0); err != nil {
		return err
	}
	if !d.healthy && len(d.failed) > 0 {
		d.probeWait = min(2*d.probeWait, probeMax)
	}
	return nil
}

// sendResult is the outcome of sending one batch.
type sendResult struct {
	a   answer
	err error
}

// batch is a rendered batch and the entries it holds a prefix of.
type batch struct {
	after   int64 // the cursor it was read after
	entries []store.StoredEntry
	r       rendered
}

// prepare reads and renders the batch after cursor; nil when there is none.
// Notifications from now on are news to the next coalescing wait. A
// wake-up still queued is not: every entry notified before the read is in
// it (an append commits before it notifies), and a stale wake-up would
// make the dispatcher read again at once after the batch, taking an entry
// committed meanwhile without its coalescing wait.
func (d *dispatcher) prepare(ctx context.Context, cursor int64) (*batch, error) {
	d.pendMu.Lock()
	d.pendingAt = time.Time{}
	d.pendMu.Unlock()
	select {
	case <-d.wake:
	default:
	}
	entries, err := d.m.deps.Store.Read(ctx, d.stream, cursor, d.m.cfg.MaxBatchLines)
	if err != nil || len(entries) == 0 {
		return nil, err
	}
	r, err := d.m.sender.render(d.withCheckpoint(ctx, entries), entries)
	if err != nil {
		return nil, err
	}
	if r.checkpoint {
		d.checkpointAt = d.m.clock.Now()
	}
	return &batch{after: cursor, entries: entries, r: r}, nil
}

// resend sends the next chunk of the failed ranges with up to retries
// retries and updates the health that decides when the next chunk goes.
// A failure keeps the range: nothing is dropped, whatever the answer; it
// shows in the status (recordAttempt), the attempts metric and the log.
func (d *dispatcher) resend(ctx context.Context, retries int) error {
	a, sent, err := d.resendFailed(ctx, retries)
	if err != nil || !sent {
		return err
	}
	if a.ok() {
		d.healthy, d.refused = true, false
		d.probe.stop()
		d.probeWait = probeMin
		return nil
	}
	d.healthy = false
	d.refused = !a.retryable()
	rng := d.failed[0]
	d.m.log.Warn("delivery: resending a failed range did not succeed; it is kept and probed again",
		"stream", d.stream, "from", rng.From, "to", rng.To, "status", a.status, "message", a.message,
		"rejected", d.refused)
	return nil
}

// resendFailed sends the next chunk of the first failed range again and
// resolves what was delivered, so a long range (a dead destination's whole
// outage) makes durable progress chunk by chunk. Entries already deleted
// by retention are recorded as lost (settleResent), a range deleted whole
// without a request. sent is false when no failed range is left to send.
func (d *dispatcher) resendFailed(ctx context.Context, retries int) (a answer, sent bool, err error) {
	st := d.m.deps.Store
	for len(d.failed) > 0 {
		rng := d.failed[0]
		entries, err := st.Read(ctx, d.stream, rng.From-1, d.m.cfg.MaxBatchLines)
		if err != nil {
			return answer{}, false, err
		}
		n := 0
		for n < len(entries) && entries[n].Seq <= rng.To {
			n++
		}
		entries = entries[:n]
		sentTo := rng.To // nothing left to read: the rest was deleted
		delivered := 0
		if len(entries) > 0 {
			if err := d.checkSettings(ctx); err != nil {
				return answer{}, false, err
			}
			r, err := d.m.sender.render(lineFormatOf(d.dest), entries)
			if err != nil {
				return answer{}, false, err
			}
			a, err = d.m.sender.send(ctx, d.dest, r.gz, retries, d.recordAttempt(ctx))
			if err != nil {
				return a, false, err
			}
			if !a.ok() {
				d.m.sender.observeFailed(r)
				return a, true, nil
			}
			d.m.sender.observeDelivered(r, entries, false)
			sentTo, delivered = r.last, r.n
		}
		if err := d.settleResent(ctx, store.SeqRange{From: rng.From, To: sentTo}, delivered); err != nil {
			return a, false, err
		}
		if sentTo >= rng.To {
			d.failed = d.failed[1:]
		} else {
			d.failed[0].From = sentTo + 1
		}
		d.nFailed.Store(int64(len(d.failed)))
		if len(entries) > 0 {
			return a, true, nil
		}
	}
	return answer{}, false, nil
}

// recordAttempt returns the callback that stores each attempt as the
// webhook status. A failure is always written; a 2xx after a 2xx only when
// the last write is statusWriteEvery old.
func (d *dispatcher) recordAttempt(ctx context.Context) func(answer) {
	return func(a answer) {
		now := d.m.clock.Now()
		if a.ok() && d.lastOK && now.Sub(d.lastOKAt) < statusWriteEvery {
			return
		}
		err := d.m.deps.Store.RecordAttempt(ctx, d.stream, d.fence, store.Attempt{
			At: now, ResponseCode: a.status, Message: a.message, OK: a.ok(),
		})
		if errors.Is(err, store.ErrLeaseLost) {
			// Stop now rather than after the retries of this batch: every
			// request from here on duplicates the new owner's.
			d.lost.Store(true)
			d.cancel()
		}
		if err != nil {
			if ctx.Err() == nil { // a shutdown mid-write is no failure
				d.m.log.Error("delivery: recording the attempt failed", "stream", d.stream, "err", err)
			}
			d.lastOK = false
			return
		}
		d.lastOK = a.ok()
		d.lastOKAt = now
	}
}
