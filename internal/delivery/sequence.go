package delivery

import (
	"context"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// A destination with sequence numbers gets each entry's stream and seq as
// signed line fields (audit.AppendSignedAt) and, at most every
// Config.CheckpointEvery while its stream is active, a signed checkpoint
// line (audit.AppendCheckpointSigned) at the end of a batch, stating the
// stream's tree up to the batch's last entry (docs/completeness.md).

// DefaultCheckpointEvery is how often a stream with sequence numbers
// carries a checkpoint line while entries flow.
const DefaultCheckpointEvery = time.Minute

// Checkpointer signs a stream's checkpoint at a size (tlog.Notary).
type Checkpointer interface {
	Checkpoint(ctx context.Context, stream store.StreamID, size int64) ([]byte, error)
}

// lineFormat is how a destination's lines are written.
type lineFormat struct {
	format audit.Format
	seq    bool // entries carry stream and seq
	// checkpoint, when set, is a signed checkpoint line that ends the
	// batch if it fits.
	checkpoint []byte
}

func lineFormatOf(d store.Destination) lineFormat {
	return lineFormat{format: d.LogFormat, seq: d.SequenceNumbers}
}

// appendLine appends the signed line of one entry.
func (s *sender) appendLine(dst []byte, lf lineFormat, e *store.StoredEntry) []byte {
	if lf.seq {
		return s.renderer.AppendSignedAt(dst, lf.format, &e.Entry, audit.Position{Stream: string(e.Stream), Seq: e.Seq}, s.signer)
	}
	return s.renderer.AppendSigned(dst, lf.format, &e.Entry, s.signer)
}

// withCheckpoint adds a checkpoint line to the batch of entries when the
// destination has sequence numbers and the last one is
// Config.CheckpointEvery old (or there was none since the dispatcher
// started). A checkpoint that cannot be made is logged and skipped: the
// entries still go.
func (d *dispatcher) withCheckpoint(ctx context.Context, entries []store.StoredEntry) lineFormat {
	lf := lineFormatOf(d.dest)
	cp := d.m.deps.Checkpoints
	if !lf.seq || cp == nil || len(entries) == 0 {
		return lf
	}
	now := d.m.clock.Now()
	if !d.checkpointAt.IsZero() && now.Sub(d.checkpointAt) < d.m.cfg.CheckpointEvery {
		return lf
	}
	size := entries[len(entries)-1].Seq
	note, err := cp.Checkpoint(ctx, d.stream, size)
	if err != nil {
		if ctx.Err() == nil {
			d.m.log.Warn("delivery: no checkpoint line", "stream", d.stream, "size", size, "err", err)
		}
		d.checkpointAt = now // try again a period later, not every batch
		return lf
	}
	c := audit.CheckpointLine{Stream: string(d.stream), Size: size, Time: now, Note: note}
	lf.checkpoint = d.m.sender.renderer.AppendCheckpointSigned(nil, lf.format, &c, d.m.sender.signer)
	return lf
}
