package delivery

import (
	"context"

	"github.com/sigtrail/sigtrail/internal/store"
)

// Sequence numbers are dense per stream, and a failed range or a batch
// read after the cursor holds only numbers that were appended. So a number
// the dispatcher finds missing there was deleted before it was delivered:
// by retention, which deletes by entry time. That is a loss; it is logged
// at error level, counted in sigtrail_delivery_lost_entries_total and
// stored with the webhook state (the status shows it), never resolved
// quietly.

// settleResent resolves the part r of the first failed range that a
// resend covered, of which delivered entries were sent; the rest of r was
// deleted and is recorded as lost in the same write.
func (d *dispatcher) settleResent(ctx context.Context, r store.SeqRange, delivered int) error {
	missing := r.To - r.From + 1 - int64(delivered)
	if missing <= 0 {
		sctx, cancel := settleContext(ctx)
		defer cancel()
		return d.m.deps.Store.ResolveFailedRange(sctx, d.stream, d.fence, r)
	}
	return d.recordLoss(ctx, r, missing)
}

// recordHoles records as lost the numbers in (after, last] missing from
// es, entries of a live batch; they were deleted before they were read.
// The gap before a batch is recorded before it is sent (the cursor moves
// past the gap, nothing else); gaps inside it once it is settled, when the
// cursor is past them and only the count changes (and the part of a failed
// batch's range that was never there is dropped). A crash between the
// settling and this write would leave such an inner gap uncounted; inner
// gaps need entries ingested with an old rt, deleted out of order.
func (d *dispatcher) recordHoles(ctx context.Context, after int64, es []store.StoredEntry) error {
	next := after + 1
	for i := range es {
		if s := es[i].Seq; s > next {
			hole := store.SeqRange{From: next, To: s - 1}
			if err := d.recordLoss(ctx, hole, s-next); err != nil {
				return err
			}
			// The store took the hole out of a failed batch's range; so
			// must the copy here, or a resend would count it again.
			d.failed = store.SubtractRange(d.failed, hole)
			d.nFailed.Store(int64(len(d.failed)))
		}
		next = es[i].Seq + 1
	}
	return nil
}

func (d *dispatcher) recordLoss(ctx context.Context, r store.SeqRange, missing int64) error {
	err := d.m.deps.Store.RecordLoss(ctx, d.stream, d.fence, store.Loss{Range: r, Entries: missing, At: d.m.clock.Now()})
	if err != nil {
		return err
	}
	d.m.log.Error("delivery: entries were deleted by retention before they were delivered; they are lost",
		"stream", d.stream, "from", r.From, "to", r.To, "lost", missing)
	d.m.metrics.lost.Add(float64(missing))
	return nil
}
