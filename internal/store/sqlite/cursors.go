package sqlite

import (
	"context"
	"sync"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

// Deferred cursor moves (issue 14). At trickle rates every webhook request
// was followed by a transaction of its own to move the cursor: a writer
// hand-off, BEGIN, UPDATE, COMMIT, the file locks and WAL writes, about as
// much as the request. DeferCursor instead leaves the move with the writer,
// which makes it in its next transaction of any kind: the next append's
// (fsync'd, so the move is durable as soon as the next entry is), or,
// should none come within cursorFlushWait, a transaction of its own (lazy,
// as AdvanceCursor's). A kill -9 before then loses the move: at worst the
// entries delivered in the last cursorFlushWait are sent again, which
// at-least-once delivery allows.

// cursorFlushWait bounds how long a deferred move waits for a transaction
// to carry it; at any steady rate an append comes sooner.
const cursorFlushWait = 200 * time.Millisecond

// deferredCursors are moves waiting for the writer's next transaction.
type deferredCursors struct {
	mu      sync.Mutex
	pending map[store.StreamID]int64
	// armed: the writer has been told (kick) and its flush timer runs or
	// is about to; DeferCursor kicks only when it is not, so the writer
	// wakes at most twice a cursorFlushWait for them.
	armed bool
	kick  chan struct{} // capacity 1
}

// DeferCursor moves the stream's cursor to seq (never backwards) with the
// writer's next transaction; GetWebhookState shows it at once. Only for a
// dispatcher without a lease fence (SQLite has one process), on a batch
// that was delivered.
func (s *Store) DeferCursor(stream store.StreamID, seq int64) {
	c := &s.w.cursors
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		c.pending = make(map[store.StreamID]int64)
	}
	if seq > c.pending[stream] {
		c.pending[stream] = seq
	}
	if !c.armed {
		c.armed = true
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// disarm is the writer's flush timer firing: a later move kicks again.
func (c *deferredCursors) disarm() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.armed = false
}

// pendingCursor is the stream's deferred move; 0 when none.
func (c *deferredCursors) pendingCursor(stream store.StreamID) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pending[stream]
}

// pendingAny reports whether a move waits.
func (c *deferredCursors) pendingAny() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending) > 0
}

// drop forgets the moves of streams whose webhook or log is gone, so a
// move cannot outlive them into a webhook made later on the same stream.
func (c *deferredCursors) drop(streams ...store.StreamID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range streams {
		delete(c.pending, s)
	}
}

// take removes the moves waiting; nil when none.
func (c *deferredCursors) take() map[store.StreamID]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) == 0 {
		return nil
	}
	p := c.pending
	c.pending = nil
	return p
}

// restore puts back moves whose transaction did not commit.
func (c *deferredCursors) restore(moves map[store.StreamID]int64) {
	if len(moves) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		c.pending = moves
		return
	}
	for s, seq := range moves {
		if seq > c.pending[s] {
			c.pending[s] = seq
		}
	}
}

// applyCursors makes the deferred moves inside the writer's current
// transaction. A deleted webhook's move affects no row and is dropped.
func (w *writer) applyCursors(ctx context.Context, moves map[store.StreamID]int64) error {
	for s, seq := range moves {
		if _, err := (preparedConn{w}).ExecContext(ctx, "UPDATE webhook_state SET cursor = max(cursor, ?) WHERE stream = ?", seq, string(s)); err != nil {
			return err
		}
	}
	return nil
}
