package delivery

import "context"

// Tail checkpoints (completeness proofs, issue 13). A checkpoint line goes
// into a batch at most once every Config.CheckpointEvery, so the entries
// delivered after the last one are covered by none until the stream's
// next batch: on a stream that goes quiet, a SIEM could not tell its tail
// complete, or notice the tail truncated, for as long as the quiet lasts.
// So once entries that no delivered checkpoint covers were sent, an idle
// dispatcher sends a checkpoint line on its own, in a request of one line,
// CheckpointEvery after the last checkpoint: every delivered entry is
// covered within that period, active stream or not.

// armTailCheckpoint starts the tail checkpoint's timer after a batch up to
// last was delivered, when no delivered checkpoint covers it.
func (d *dispatcher) armTailCheckpoint(last int64) {
	if !d.dest.SequenceNumbers || d.m.deps.Checkpoints == nil || last <= d.coveredTo || d.tailCP.armed() {
		return
	}
	wait := d.m.cfg.CheckpointEvery
	if !d.checkpointAt.IsZero() {
		wait -= d.m.clock.Now().Sub(d.checkpointAt)
	}
	d.tailCP.set(d.m.clock, max(wait, 0))
}

// sendTailCheckpoint sends a checkpoint of the delivered entries, unless a
// batch's checkpoint covered them meanwhile. A failure is logged and tried
// again a period later; it records no failed range (it carries no entry).
// It returns only ctx's error.
func (d *dispatcher) sendTailCheckpoint(ctx context.Context) error {
	d.tailCP.fired()
	size := d.cursor.Load()
	if size <= d.coveredTo {
		return nil
	}
	again := func() { d.tailCP.set(d.m.clock, d.m.cfg.CheckpointEvery) }
	if !d.healthy {
		again() // the probe brings the destination back first
		return nil
	}
	now := d.m.clock.Now()
	line, err := d.checkpointLine(ctx, d.dest.LogFormat, size, now)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d.m.log.Warn("delivery: no tail checkpoint", "stream", d.stream, "size", size, "err", err)
		again()
		return nil
	}
	gz, _, _, err := d.m.sender.gzip([]*chunk{lineChunk(line)})
	if err != nil {
		return err
	}
	a, err := d.m.sender.sendRetrying(ctx, d.dest, gz, d.recordAttempt(ctx))
	if err != nil {
		return err
	}
	if !a.ok() {
		d.healthy = false
		d.m.log.Warn("delivery: tail checkpoint not accepted; tried again a period later",
			"stream", d.stream, "size", size, "status", a.status)
		again()
		return nil
	}
	d.checkpointAt, d.coveredTo = now, size
	return nil
}
