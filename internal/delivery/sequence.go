package delivery

import (
	"context"
	"crypto/ed25519"
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

// appendLinesBatch appends the signed lines of entries to c, as appendLine
// does one by one, signing them together (audit.BatchSigner): the lines
// are rendered unsigned first, then signed, then copied with their
// signatures attached.
func (s *sender) appendLinesBatch(c *chunk, bs audit.BatchSigner, lf lineFormat, entries []store.StoredEntry) {
	n := len(entries)
	c.raw = c.raw[:0]
	starts := c.ends[:0] // borrowed until the lines are copied: ends is rebuilt below
	for i := range entries {
		starts = append(starts, len(c.raw))
		e := &entries[i]
		if lf.seq {
			c.raw = s.renderer.AppendUnsignedAt(c.raw, lf.format, &e.Entry, audit.Position{Stream: string(e.Stream), Seq: e.Seq})
		} else {
			c.raw = s.renderer.AppendUnsigned(c.raw, lf.format, &e.Entry)
		}
	}
	if cap(c.sigBuf) < n*ed25519.SignatureSize {
		c.sigBuf = make([]byte, n*ed25519.SignatureSize)
	}
	c.msgs, c.sigs = c.msgs[:0], c.sigs[:0]
	for i := range n {
		end := len(c.raw)
		if i+1 < n {
			end = starts[i+1]
		}
		c.msgs = append(c.msgs, c.raw[starts[i]:end])
		c.sigs = append(c.sigs, c.sigBuf[i*ed25519.SignatureSize:(i+1)*ed25519.SignatureSize])
	}
	bs.SignBatch(c.msgs, c.sigs)
	c.ends = c.ends[:0]
	for i, m := range c.msgs {
		start := len(c.buf)
		c.buf = append(c.buf, m...)
		c.buf = audit.AttachSig(c.buf, start, lf.format, c.sigs[i])
		c.buf = append(c.buf, '\n')
		c.ends = append(c.ends, len(c.buf))
	}
	clear(c.msgs) // the chunk goes back to a pool: no references to old lines
	clear(c.sigs)
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
	line, err := d.checkpointLine(ctx, lf.format, size, now)
	if err != nil {
		if ctx.Err() == nil {
			d.m.log.Warn("delivery: no checkpoint line", "stream", d.stream, "size", size, "err", err)
		}
		d.checkpointAt = now // try again a period later, not every batch
		return lf
	}
	lf.checkpoint = line
	return lf
}

// checkpointLine is the signed checkpoint line of the stream's first size
// entries, made at now.
func (d *dispatcher) checkpointLine(ctx context.Context, f audit.Format, size int64, now time.Time) ([]byte, error) {
	note, err := d.m.deps.Checkpoints.Checkpoint(ctx, d.stream, size)
	if err != nil {
		return nil, err
	}
	c := audit.CheckpointLine{Stream: string(d.stream), Size: size, Time: now, Note: note}
	return d.m.sender.renderer.AppendCheckpointSigned(nil, f, &c, d.m.sender.signer), nil
}
