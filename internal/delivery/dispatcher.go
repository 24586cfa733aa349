package delivery

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

// dispatcher delivers one webhook's stream. It sleeps on its wake channel
// while the stream is idle, so idle webhooks cost no CPU.
type dispatcher struct {
	m      *Manager
	stream store.StreamID
	hook   store.Webhook
	dest   store.Destination
	wake   chan struct{} // capacity 1: a wake-up is never lost, never queued twice
	cancel context.CancelFunc
	done   chan struct{}

	head    atomic.Int64 // highest sequence number known in the stream
	cursor  atomic.Int64
	nFailed atomic.Int64

	// lastOK and lastOKAt coalesce the status writes of a run of 2xx
	// answers (see recordAttempt). Only the dispatcher goroutine uses them.
	lastOK   bool
	lastOKAt time.Time
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

func (d *dispatcher) progress() (lag, failed int64) {
	return max(d.head.Load()-d.cursor.Load(), 0), d.nFailed.Load()
}

func (d *dispatcher) run(ctx context.Context) {
	defer close(d.done)
	gone := false
	for {
		err := d.deliver(ctx)
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
	failed := append([]store.SeqRange(nil), state.FailedRanges...)
	d.nFailed.Store(int64(len(failed)))
	// A destination that answered 2xx last time gets its failed ranges at
	// once; otherwise they wait for its next 2xx.
	healthy := state.Status == store.StatusActive
	d.lastOK = false

	var ahead *batch // the batch after the one in flight, rendered meanwhile
	for {
		cur := ahead
		ahead = nil
		if cur == nil {
			if cur, err = d.prepare(ctx, cursor); err != nil {
				return err
			}
		}
		if cur == nil {
			if healthy && len(failed) > 0 {
				if failed, healthy, err = d.resendFailed(ctx, failed); err != nil {
					return err
				}
				continue
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-d.wake:
			}
			continue
		}
		// Send this batch while the next one is read, rendered and signed:
		// the CPU work overlaps the round trip. The next batch only reads
		// the log; nothing about it is stored until this one is settled.
		type result struct {
			a   answer
			err error
		}
		done := make(chan result, 1)
		go func() {
			a, err := d.m.sender.sendRetrying(ctx, d.dest, cur.r.gz, d.recordAttempt(ctx))
			done <- result{a, err}
		}()
		next, nextErr := d.prepare(ctx, cur.r.last)
		res := <-done
		if res.err != nil {
			return res.err
		}
		r := cur.r
		if res.a.ok() {
			if err := st.AdvanceCursor(ctx, d.stream, r.last, nil); err != nil {
				return err
			}
			d.m.sender.observeDelivered(r, cur.entries, true)
			healthy = true
		} else {
			rng := store.SeqRange{From: r.first, To: r.last}
			if err := st.AdvanceCursor(ctx, d.stream, r.last, &rng); err != nil {
				return err
			}
			d.m.sender.observeFailed(r)
			d.m.log.Warn("delivery: batch failed; its range is kept for a later resend",
				"stream", d.stream, "from", rng.From, "to", rng.To, "status", res.a.status)
			failed = addRange(failed, rng)
			d.nFailed.Store(int64(len(failed)))
			healthy = false
		}
		cursor = r.last
		d.cursor.Store(cursor)
		if nextErr == nil {
			ahead = next
		}
		// Failed ranges go out between new batches, so a busy stream does
		// not starve them.
		if healthy && len(failed) > 0 {
			if failed, healthy, err = d.resendFailed(ctx, failed); err != nil {
				return err
			}
		}
	}
}

// batch is a rendered batch and the entries it holds a prefix of.
type batch struct {
	entries []store.StoredEntry
	r       rendered
}

// prepare reads and renders the batch after cursor; nil when there is none.
func (d *dispatcher) prepare(ctx context.Context, cursor int64) (*batch, error) {
	entries, err := d.m.deps.Store.Read(ctx, d.stream, cursor, d.m.cfg.MaxBatchLines)
	if err != nil || len(entries) == 0 {
		return nil, err
	}
	r, err := d.m.sender.render(d.dest.LogFormat, entries)
	if err != nil {
		return nil, err
	}
	return &batch{entries: entries, r: r}, nil
}

// resendFailed sends the next chunk of the first failed range again and
// resolves what was delivered, so a long range (a dead destination's whole
// outage) makes durable progress chunk by chunk. It returns the ranges
// still failed and whether the destination answered 2xx.
func (d *dispatcher) resendFailed(ctx context.Context, failed []store.SeqRange) ([]store.SeqRange, bool, error) {
	st := d.m.deps.Store
	rng := failed[0]
	entries, err := st.Read(ctx, d.stream, rng.From-1, d.m.cfg.MaxBatchLines)
	if err != nil {
		return failed, false, err
	}
	n := 0
	for n < len(entries) && entries[n].Seq <= rng.To {
		n++
	}
	entries = entries[:n]
	sentTo := rng.To // nothing left to read: the rest is past retention
	if len(entries) > 0 {
		r, err := d.m.sender.render(d.dest.LogFormat, entries)
		if err != nil {
			return failed, false, err
		}
		a, err := d.m.sender.sendRetrying(ctx, d.dest, r.gz, d.recordAttempt(ctx))
		if err != nil {
			return failed, false, err
		}
		if !a.ok() {
			d.m.sender.observeFailed(r)
			return failed, false, nil
		}
		d.m.sender.observeDelivered(r, entries, false)
		sentTo = r.last
	}
	if err := st.ResolveFailedRange(ctx, d.stream, store.SeqRange{From: rng.From, To: sentTo}); err != nil {
		return failed, true, err
	}
	if sentTo >= rng.To {
		failed = failed[1:]
	} else {
		failed[0].From = sentTo + 1
	}
	d.nFailed.Store(int64(len(failed)))
	return failed, true, nil
}

// addRange appends r, merging it with the last range when adjacent, as the
// store does.
func addRange(rs []store.SeqRange, r store.SeqRange) []store.SeqRange {
	if n := len(rs); n > 0 && rs[n-1].To+1 >= r.From {
		rs[n-1].To = max(rs[n-1].To, r.To)
		return rs
	}
	return append(rs, r)
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
		err := d.m.deps.Store.RecordAttempt(ctx, d.stream, store.Attempt{
			At: now, ResponseCode: a.status, Message: a.message, OK: a.ok(),
		})
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
