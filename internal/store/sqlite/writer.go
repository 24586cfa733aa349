package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
)

// errClosed answers requests made after Close.
func errClosed() error { return apperr.New(apperr.Unavailable, "store is closed") }

// insertChunk is how many rows one INSERT statement carries: large enough
// to amortise statement overhead, small enough to stay far below SQLite's
// bound-parameter limit (5 parameters a row).
const insertChunk = 128

// querier is what reads and writes need from a connection; *sql.DB (the
// read pool) and *sql.Conn (the writer inside a transaction) both have it.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// appendReq is one Append call waiting for the writer.
type appendReq struct {
	ctx  context.Context
	rows []appendRow
	seqs []int64
	done chan error
}

// appendRow is one entry, encoded by its caller.
type appendRow struct {
	stream store.StreamID
	tsMS   int64
	kind   int64
	record []byte
	leaf   []byte
}

// jobReq is any other write: fn runs inside a transaction on the writer
// connection. forget names streams whose cached last sequence number the
// job invalidates (it deleted their streams row).
type jobReq struct {
	ctx    context.Context
	fn     func(ctx context.Context, q querier) error
	forget []store.StreamID
	done   chan error
	// lazy commits without waiting for the disk (see doLazy).
	lazy bool
}

// writer owns the one writer connection. Only its goroutine touches conn,
// the prepared statements, pos, args and lastCallers.
type writer struct {
	conn *sql.Conn
	opts Options
	reqs chan any // *appendReq or *jobReq
	quit chan struct{}
	// stopped closes once the goroutine has answered everything it took.
	stopped chan struct{}

	// pos caches each stream's id and highest sequence number as committed.
	pos map[store.StreamID]streamPos
	// version is the database's data_version when pos was last known
	// right: it changes when another connection (process, handle) commits.
	version     int64
	multi       map[multiKey]*sql.Stmt
	prepared    map[string]*sql.Stmt // see preparedConn
	selStream   *sql.Stmt
	addStream   *sql.Stmt
	dataVersion *sql.Stmt
	args        []any
	leafArgs    []any // the batch's leaves rows, written after its entries
	// lastCallers is how many appends the previous commit served.
	lastCallers int
	// syncLost: the connection may not be at synchronous=FULL (a lazy
	// transaction could not set it back); inTx sets it before committing.
	syncLost bool

	// commits counts append transactions committed, for tests and
	// benchmarks to see how many appends share one.
	commits atomic.Int64

	// tail holds copies of the records committed last (tail.go).
	tail *tailCache
	// cursors are moves the next transaction makes (cursors.go).
	cursors  deferredCursors
	tailRows []tailRow
}

func newWriter(ctx context.Context, conn *sql.Conn, opts Options) (*writer, error) {
	w := &writer{
		conn:    conn,
		opts:    opts,
		reqs:    make(chan any, 1024),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
		pos:     make(map[store.StreamID]streamPos),
		multi:   make(map[multiKey]*sql.Stmt),

		prepared: make(map[string]*sql.Stmt),
		tail:     newTailCache(),
		cursors:  deferredCursors{kick: make(chan struct{}, 1)},
	}
	var err error
	for _, p := range []struct {
		st    **sql.Stmt
		query string
	}{
		{&w.selStream, "SELECT sid, last_seq FROM streams WHERE stream = ?"},
		{&w.addStream, "INSERT INTO streams (stream, last_seq) VALUES (?, 0) RETURNING sid"},
		{&w.dataVersion, "PRAGMA data_version"},
	} {
		if *p.st, err = conn.PrepareContext(ctx, p.query); err != nil {
			return nil, err
		}
	}
	go w.run()
	return w, nil
}

// close stops the goroutine after its current commit and closes the
// connection. Requests still queued are answered with errClosed.
func (w *writer) close() error {
	close(w.quit)
	<-w.stopped
	for _, st := range w.multi {
		st.Close()
	}
	for _, st := range w.prepared {
		st.Close()
	}
	w.selStream.Close()
	w.addStream.Close()
	w.dataVersion.Close()
	return w.conn.Close()
}

// submit hands a request to the goroutine and waits for its answer.
func (w *writer) submit(ctx context.Context, req any, done chan error) error {
	select {
	case w.reqs <- req:
	case <-w.stopped:
		return errClosed()
	case <-w.quit:
		return errClosed()
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		// The request may still commit: the caller learns only that it
		// stopped waiting, as with any write whose answer is lost.
		return ctx.Err()
	case <-w.stopped:
		select {
		case err := <-done:
			return err
		default:
			return errClosed()
		}
	}
}

// do runs fn in a write transaction on the writer connection.
func (w *writer) do(ctx context.Context, fn func(ctx context.Context, q querier) error, forget ...store.StreamID) error {
	r := &jobReq{ctx: ctx, fn: fn, forget: forget, done: make(chan error, 1)}
	return w.submit(ctx, r, r.done)
}

// doLazy is do for a write that may be lost in an operating-system crash
// or power cut but not in a process crash: it commits without fsync
// (synchronous=NORMAL for this one transaction), so it reaches the WAL
// file and the OS, and becomes durable with the next fsync'd commit or
// checkpoint. Whatever survives a crash is a prefix of the commits, so a
// lost lazy write never leaves a later durable one without it. For the
// delivery cursor: losing a move re-sends entries already delivered, which
// at-least-once delivery allows, and saves an fsync per webhook request.
func (w *writer) doLazy(ctx context.Context, fn func(ctx context.Context, q querier) error) error {
	r := &jobReq{ctx: ctx, fn: fn, done: make(chan error, 1), lazy: true}
	return w.submit(ctx, r, r.done)
}

func (w *writer) run() {
	defer close(w.stopped)
	var next any // a request taken while collecting that did not fit
	var flush clock.Timer
	defer func() {
		if flush != nil {
			flush.Stop()
		}
	}()
	for {
		req := next
		next = nil
		if req == nil {
			var flushC <-chan time.Time
			if flush != nil {
				flushC = flush.C()
			}
			select {
			case req = <-w.reqs:
			case <-w.cursors.kick:
				if flush == nil {
					flush = w.opts.Clock.NewTimer(cursorFlushWait)
				}
				continue
			case <-flushC:
				flush = nil
				w.cursors.disarm()
				w.flushCursors()
				continue
			case <-w.quit:
				w.refuseQueued()
				w.flushCursors()
				return
			}
		}
		switch r := req.(type) {
		case *jobReq:
			w.runJob(r)
		case *appendReq:
			var batch []*appendReq
			batch, next = w.collect(r)
			w.commitAppends(batch)
		}
	}
}

// collect gathers the appends already queued behind first, up to the batch
// cap. When fewer callers are queued than the previous commit served, it
// waits up to GroupCommitMaxWait for them: callers just answered are
// usually about to append again, and committing without them would halve
// the batch. A lone caller after a lone caller never waits. It returns the
// batch and a non-append request it took, if any, to run next.
func (w *writer) collect(first *appendReq) ([]*appendReq, any) {
	batch := []*appendReq{first}
	n := len(first.rows)
	defer func() { w.lastCallers = len(batch) }()
	var timeout <-chan time.Time
	take := func(x any) (stop bool, other any) {
		a, ok := x.(*appendReq)
		if !ok || n+len(a.rows) > w.opts.GroupCommitMaxBatch {
			return true, x
		}
		batch = append(batch, a)
		n += len(a.rows)
		return false, nil
	}
	for n < w.opts.GroupCommitMaxBatch {
		select {
		case x := <-w.reqs:
			if stop, other := take(x); stop {
				return batch, other
			}
			continue
		default:
		}
		if w.opts.GroupCommitMaxWait <= 0 || len(batch) >= w.lastCallers {
			return batch, nil
		}
		if timeout == nil {
			t := w.opts.Clock.NewTimer(w.opts.GroupCommitMaxWait)
			defer t.Stop()
			timeout = t.C()
		}
		select {
		case x := <-w.reqs:
			if stop, other := take(x); stop {
				return batch, other
			}
		case <-timeout:
			return batch, nil
		}
	}
	return batch, nil
}

// flushCursors makes the deferred cursor moves that no transaction has
// carried, in one lazy transaction of their own: cursorFlushWait after the
// first, and before the writer stops (so a clean shutdown sends nothing
// twice).
func (w *writer) flushCursors() {
	if w.cursors.pendingAny() {
		if err := w.inLazyTx(context.Background(), func() error { return nil }); err != nil {
			w.opts.Logger.Error("sqlite store: deferred cursor moves", "err", err)
		}
	}
}

// refuseQueued answers everything still queued once the writer stops.
func (w *writer) refuseQueued() {
	for {
		select {
		case req := <-w.reqs:
			switch r := req.(type) {
			case *jobReq:
				r.done <- errClosed()
			case *appendReq:
				r.done <- errClosed()
			}
		default:
			return
		}
	}
}

func (w *writer) runJob(r *jobReq) {
	if err := r.ctx.Err(); err != nil {
		r.done <- err
		return
	}
	var err error
	if r.lazy {
		err = w.inLazyTx(r.ctx, func() error { return r.fn(r.ctx, preparedConn{w}) })
	} else {
		err = w.inTx(r.ctx, func() error { return r.fn(r.ctx, preparedConn{w}) })
	}
	if err == nil {
		for _, s := range r.forget {
			delete(w.pos, s)
		}
		w.tail.drop(r.forget)
		w.cursors.drop(r.forget...)
	}
	r.done <- err
}

// inTx runs fn between BEGIN and COMMIT on the writer connection. The
// transaction is managed by hand (not database/sql's Tx) so statements
// prepared once on the connection are reused by every transaction. It
// commits with fsync (synchronous=FULL): if a lazy transaction could not
// set that back, it is set here first or nothing commits.
func (w *writer) inTx(ctx context.Context, fn func() error) error {
	if w.syncLost {
		w.rollback() // in case a failed lazy transaction left one open
		if _, err := (preparedConn{w}).ExecContext(context.Background(), "PRAGMA synchronous=FULL"); err != nil {
			return err
		}
		w.syncLost = false
	}
	return w.tx(ctx, fn)
}

// inLazyTx is inTx committed with synchronous=NORMAL (see doLazy).
func (w *writer) inLazyTx(ctx context.Context, fn func() error) error {
	q := preparedConn{w}
	w.syncLost = true // until FULL is set back
	if _, err := q.ExecContext(context.Background(), "PRAGMA synchronous=NORMAL"); err != nil {
		return err
	}
	err := w.tx(ctx, fn)
	if _, e := q.ExecContext(context.Background(), "PRAGMA synchronous=FULL"); e != nil {
		w.opts.Logger.Error("sqlite store: restoring synchronous=FULL", "err", e)
		return err
	}
	w.syncLost = false
	return err
}

// tx is one transaction at the connection's current synchronous setting.
// BEGIN and COMMIT run without ctx: the driver turns a context that ends
// while a statement runs into an error even when the statement completed,
// so a BEGIN could report failure yet leave its transaction open (and the
// next PRAGMA or BEGIN fail). The caller checked ctx before; fn's own
// statements still end with it.
//
// Every transaction also makes the cursor moves deferred to it
// (cursors.go), and gives them back should it not commit.
func (w *writer) tx(_ context.Context, fn func() error) error {
	q := preparedConn{w}
	if _, err := q.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	moves := w.cursors.take()
	if err := w.applyCursors(context.Background(), moves); err != nil {
		w.rollback()
		w.cursors.restore(moves)
		return err
	}
	if err := fn(); err != nil {
		w.rollback()
		w.cursors.restore(moves)
		return err
	}
	if _, err := q.ExecContext(context.Background(), "COMMIT"); err != nil {
		w.rollback()
		w.cursors.restore(moves)
		return err
	}
	return nil
}

func (w *writer) rollback() {
	if _, err := w.conn.ExecContext(context.Background(), "ROLLBACK"); err != nil &&
		!strings.Contains(err.Error(), "no transaction is active") {
		w.opts.Logger.Error("sqlite store: rollback", "err", err)
	}
}

// commitAppends writes a batch of appends in one transaction and answers
// each caller once it is durable.
func (w *writer) commitAppends(batch []*appendReq) {
	live := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	next, err := w.writeBatch(live)
	if err != nil && isUnique(err) {
		// writeBatch forgets positions another process may have moved, so
		// this should not happen; should it, read them all again inside
		// the transaction.
		clear(w.pos)
		next, err = w.writeBatch(live)
	}
	if err != nil {
		w.opts.Logger.Error("sqlite store: append commit", "err", err, "requests", len(live))
		err = apperr.Wrap(err, "store: append")
		for _, r := range live {
			r.done <- err
		}
		return
	}
	w.commits.Add(1)
	for s, p := range next {
		w.pos[s] = p
	}
	w.tailRows = w.tailRows[:0]
	for _, r := range live {
		for i := range r.rows {
			w.tailRows = append(w.tailRows, tailRow{stream: r.rows[i].stream, seq: r.seqs[i], record: r.rows[i].record})
		}
	}
	w.tail.add(w.tailRows, w.opts.Clock.Now())
	clear(w.tailRows) // drop references to the requests' records
	for _, r := range live {
		r.done <- nil
	}
}

// writeBatch writes the appends in one transaction, filling in their
// sequence numbers, and returns the streams' new positions. Sequence
// numbers are assigned here, in the only goroutine that writes; the caller
// caches the positions only once the commit succeeded.
func (w *writer) writeBatch(live []*appendReq) (map[store.StreamID]streamPos, error) {
	next := make(map[store.StreamID]streamPos)
	hours := make(map[hourKey]seqSpan)
	ctx := context.Background()
	err := w.inTx(ctx, func() error {
		if err := w.checkVersion(ctx); err != nil {
			return err
		}
		w.args, w.leafArgs = w.args[:0], w.leafArgs[:0]
		rows := 0
		for _, r := range live {
			for i := range r.rows {
				row := &r.rows[i]
				s := row.stream
				p, ok := next[s]
				if !ok {
					var err error
					if p, err = w.position(ctx, s); err != nil {
						return err
					}
				}
				p.last++
				next[s] = p
				r.seqs[i] = p.last
				k := hourKey{hourOf(row.tsMS), p.sid}
				if h, ok := hours[k]; ok {
					hours[k] = seqSpan{min(h.min, p.last), max(h.max, p.last)}
				} else {
					hours[k] = seqSpan{p.last, p.last}
				}
				w.args = append(w.args, p.sid, p.last, row.tsMS, row.kind, row.record)
				w.leafArgs = append(w.leafArgs, p.sid, p.last, row.leaf)
				rows++
				if rows == insertChunk {
					if err := w.exec(ctx, insertEntries, rows); err != nil {
						return err
					}
					rows = 0
					w.args = w.args[:0]
				}
			}
		}
		if rows > 0 {
			if err := w.exec(ctx, insertEntries, rows); err != nil {
				return err
			}
		}
		w.args, w.leafArgs = w.leafArgs, w.args[:0]
		if err := w.execChunks(ctx, insertLeaves, len(w.args)/3); err != nil {
			return err
		}
		// One statement each for the streams' last numbers and their hours,
		// however many streams the batch touched.
		w.args = w.args[:0]
		for s, p := range next {
			w.args = append(w.args, p.sid, string(s), p.last)
		}
		if err := w.execChunks(ctx, upsertStreams, len(next)); err != nil {
			return err
		}
		w.args = w.args[:0]
		for k, h := range hours {
			w.args = append(w.args, k.hour, k.sid, h.min, h.max)
		}
		return w.execChunks(ctx, upsertHours, len(hours))
	})
	clear(w.args) // drop references to records
	w.args = w.args[:0]
	clear(w.leafArgs)
	w.leafArgs = w.leafArgs[:0]
	return next, err
}

// checkVersion forgets the cached stream positions when another connection
// committed since this one last looked: another process (or handle) may
// have appended, and retention may since have deleted those entries, so a
// stale position would not even collide with them and numbers would be
// given twice. It runs inside the write transaction, so nothing commits
// between the check and the writes; it costs one pragma a commit.
func (w *writer) checkVersion(ctx context.Context) error {
	var v int64
	if err := w.dataVersion.QueryRowContext(ctx).Scan(&v); err != nil {
		return err
	}
	if v != w.version {
		clear(w.pos)
		w.tail.clear()
		w.version = v
	}
	return nil
}

// hourKey names a row of stream_hours; seqSpan is its sequence range.
type (
	hourKey struct{ hour, sid int64 }
	seqSpan struct{ min, max int64 }
)

// msPerHour is the width of a stream_hours bucket.
const msPerHour = 3_600_000

// hourOf is the bucket of an entry time, rounding down for times before
// 1970 too.
func hourOf(ms int64) int64 {
	h := ms / msPerHour
	if ms%msPerHour < 0 {
		h--
	}
	return h
}

// streamPos is where a stream stands: its id and last sequence number.
type streamPos struct{ sid, last int64 }

// position returns the stream's position, creating the stream (in the
// current transaction) on its first entry.
func (w *writer) position(ctx context.Context, s store.StreamID) (streamPos, error) {
	if p, ok := w.pos[s]; ok {
		return p, nil
	}
	var p streamPos
	err := w.selStream.QueryRowContext(ctx, string(s)).Scan(&p.sid, &p.last)
	if errors.Is(err, sql.ErrNoRows) {
		err = w.addStream.QueryRowContext(ctx, string(s)).Scan(&p.sid)
	}
	return p, err
}

// multiStmt is a statement with one VALUES tuple per row.
type multiStmt struct {
	head, tuple, tail string
	cols              int
}

// The writer's multi-row statements.
const (
	insertEntries multiKind = iota
	upsertStreams
	upsertHours
	insertLeaves
)

// multiKind names one of the writer's multi-row statements.
type multiKind int

func (k multiKind) stmt() multiStmt {
	switch k {
	case upsertStreams:
		return multiStmt{"INSERT INTO streams (sid, stream, last_seq) VALUES ", "(?,?,?)",
			" ON CONFLICT (sid) DO UPDATE SET last_seq = excluded.last_seq", 3}
	case insertLeaves:
		return multiStmt{"INSERT INTO leaves (sid, seq, hash) VALUES ", "(?,?,?)", "", 3}
	case upsertHours:
		return multiStmt{"INSERT INTO stream_hours (hour, sid, min_seq, max_seq) VALUES ", "(?,?,?,?)",
			" ON CONFLICT (hour, sid) DO UPDATE SET min_seq = min(min_seq, excluded.min_seq), max_seq = max(max_seq, excluded.max_seq)", 4}
	}
	return multiStmt{"INSERT INTO entries (sid, seq, ts_ms, kind, record) VALUES ", "(?,?,?,?,?)", "", 5}
}

type multiKey struct {
	kind multiKind
	rows int
}

// execChunks runs statement k over rows rows of w.args, at most insertChunk rows a
// statement, so at most insertChunk shapes of each statement exist.
func (w *writer) execChunks(ctx context.Context, k multiKind, rows int) error {
	all := w.args
	defer func() { w.args = all }()
	for rows > 0 {
		n := min(rows, insertChunk)
		if err := w.exec(ctx, k, n); err != nil {
			return err
		}
		w.args = w.args[n*k.stmt().cols:]
		rows -= n
	}
	return nil
}

// exec runs statement k for rows rows with the first values of w.args,
// preparing each shape once per connection.
func (w *writer) exec(ctx context.Context, k multiKind, rows int) error {
	m := k.stmt()
	key := multiKey{k, rows}
	st, ok := w.multi[key]
	if !ok {
		var b strings.Builder
		b.WriteString(m.head)
		for i := range rows {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(m.tuple)
		}
		b.WriteString(m.tail)
		var err error
		if st, err = w.conn.PrepareContext(ctx, b.String()); err != nil {
			return err
		}
		w.multi[key] = st
	}
	_, err := st.ExecContext(ctx, w.args[:rows*m.cols]...)
	return err
}
