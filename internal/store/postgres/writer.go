package postgres

import (
	"context"
	"slices"
	"sync/atomic"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

// appendReq is one Append call waiting for the writer.
type appendReq struct {
	ctx  context.Context // the caller's
	rows []appendRow
	seqs []int64
	done chan error
	// dropIfAbandoned: once ctx ends while the request is queued, the
	// writer skips it (store.DropIfAbandoned).
	dropIfAbandoned bool
}

// appendRow is one entry, encoded by its caller.
type appendRow struct {
	stream store.StreamID
	tsMS   int64
	kind   int16
	record []byte
	leaf   []byte
}

// writer group-commits appends: its goroutine takes every append queued
// while the previous commit ran and writes them in one statement, so a
// commit's round trip and fsync are shared by all its callers. It keeps
// no state between commits: other replicas append to the same streams,
// and the database's counters are the only truth.
type writer struct {
	s       *Store
	reqs    chan *appendReq
	quit    chan struct{}
	stopped chan struct{}
	// commits counts committed batches, for tests and benchmarks.
	commits atomic.Int64
}

func newWriter(s *Store) *writer {
	w := &writer{
		s:       s,
		reqs:    make(chan *appendReq, 1024),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	go w.run()
	return w
}

// close stops the goroutine after its current commit; appends still
// queued are refused.
func (w *writer) close() {
	close(w.quit)
	<-w.stopped
}

// submit hands r to the goroutine and waits for its answer.
func (w *writer) submit(ctx context.Context, r *appendReq) error {
	select {
	case <-w.quit:
		return errClosed
	default:
	}
	select {
	case w.reqs <- r:
	case <-w.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		// The append may still commit if the writer took it already or
		// it is not marked to be dropped (gaveUp): the caller learns only that it
		// stopped waiting, as with any write whose answer is lost.
		return ctx.Err()
	case <-w.stopped:
		// Queued as the writer stopped: answered, or never taken.
		select {
		case err := <-r.done:
			return err
		default:
			return errClosed
		}
	}
}

func (w *writer) run() {
	defer close(w.stopped)
	var next *appendReq
	for {
		first := next
		next = nil
		if first == nil {
			select {
			case first = <-w.reqs:
			case <-w.quit:
				w.refuseQueued()
				return
			}
		}
		if w.gaveUp(first) {
			continue
		}
		batch := []*appendReq{first}
		n := len(first.rows)
	collect:
		for n < w.s.opts.GroupCommitMaxBatch {
			select {
			case r := <-w.reqs:
				if w.gaveUp(r) {
					continue
				}
				if n+len(r.rows) > w.s.opts.GroupCommitMaxBatch {
					next = r
					break collect
				}
				batch = append(batch, r)
				n += len(r.rows)
			default:
				break collect
			}
		}
		err := w.commit(batch)
		for _, r := range batch {
			r.done <- err
		}
	}
}

// gaveUp answers r with its context's error, committing nothing, when its
// caller stopped waiting while it was queued (behind a commit the database
// did not answer, say) and marked it store.DropIfAbandoned: ingest told
// its producer the entries may have been stored, and the producer sends
// them again, so storing them now would store them twice. An unmarked
// append (the server's own entries, which nobody sends again) is
// committed late rather than lost.
func (w *writer) gaveUp(r *appendReq) bool {
	if !r.dropIfAbandoned {
		return false
	}
	if err := r.ctx.Err(); err != nil {
		r.done <- err
		return true
	}
	return false
}

func (w *writer) refuseQueued() {
	for {
		select {
		case r := <-w.reqs:
			r.done <- errClosed
		default:
			return
		}
	}
}

// appendSQL appends a batch in one statement, which is its own
// transaction. Each stream's counter row is upserted in stream order (so
// two replicas' commits lock rows in the same order and cannot deadlock)
// and stays locked until the commit, so commits to one stream land in
// sequence order. An entry's seq is its stream's new last_seq plus its
// offset (<= 0) among that stream's entries in the batch. Each stream's
// highest seq is announced, delivered when the statement commits.
//
// Every upsert draws a sid from the identity sequence even when the row
// exists; bigint leaves room for that.
const appendSQL = `WITH s AS (
	INSERT INTO streams AS t (stream, last_seq)
	SELECT u.stream, u.n FROM unnest($1::text[], $2::bigint[]) AS u (stream, n) ORDER BY u.stream
	ON CONFLICT (stream) DO UPDATE SET last_seq = t.last_seq + excluded.last_seq
	RETURNING t.sid, t.stream, t.last_seq
), e AS (
	INSERT INTO entries (sid, seq, ts_ms, kind, record)
	SELECT s.sid, s.last_seq + x.off, x.ts, x.kind, x.rec
	FROM unnest($3::text[], $4::bigint[], $5::bigint[], $6::smallint[], $7::bytea[]) AS x (stream, off, ts, kind, rec)
	JOIN s ON s.stream = x.stream
), l AS (
	INSERT INTO leaves (sid, seq, hash)
	SELECT s.sid, s.last_seq + x.off, x.hash
	FROM unnest($3::text[], $4::bigint[], $8::bytea[]) AS x (stream, off, hash)
	JOIN s ON s.stream = x.stream
)
SELECT s.stream, s.last_seq, pg_notify('` + channel + `', json_build_object('k', 's', 's', s.stream, 'n', s.last_seq)::text)
FROM s`

// commit writes the batch and fills in its sequence numbers. The statement
// is its own transaction, so one the server answered with an error (a
// deadlock victim, a connection terminated while idle in the pool)
// committed nothing and is run again when the error is transient; one
// whose connection broke while it waited for the answer may have committed
// and is reported unavailable.
func (w *writer) commit(batch []*appendReq) error {
	// Count each stream's entries, then give each entry its offset from
	// the stream's new last number.
	counts := map[store.StreamID]int64{}
	for _, r := range batch {
		for i := range r.rows {
			counts[r.rows[i].stream]++
		}
	}
	streams := make([]string, 0, len(counts))
	ns := make([]int64, 0, len(counts))
	for st := range counts {
		streams = append(streams, string(st))
	}
	slices.Sort(streams)
	for _, st := range streams {
		ns = append(ns, counts[store.StreamID(st)])
	}
	total := 0
	for _, r := range batch {
		total += len(r.rows)
	}
	var (
		eStream = make([]string, 0, total)
		eOff    = make([]int64, 0, total)
		eTS     = make([]int64, 0, total)
		eKind   = make([]int16, 0, total)
		eRec    = make([][]byte, 0, total)
		eLeaf   = make([][]byte, 0, total)
		taken   = map[store.StreamID]int64{}
	)
	for _, r := range batch {
		for i := range r.rows {
			row := &r.rows[i]
			taken[row.stream]++
			off := taken[row.stream] - counts[row.stream]
			r.seqs[i] = off // completed with the stream's last_seq below
			eStream = append(eStream, string(row.stream))
			eOff = append(eOff, off)
			eTS = append(eTS, row.tsMS)
			eKind = append(eKind, row.kind)
			eRec = append(eRec, row.record)
			eLeaf = append(eLeaf, row.leaf)
		}
	}

	var last map[store.StreamID]int64
	var err error
	for attempt := 1; ; attempt++ {
		last, err = w.exec(streams, ns, eStream, eOff, eTS, eKind, eRec, eLeaf)
		if err == nil || attempt == maxAttempts || !refused(err) || !w.s.retry(context.Background(), err) {
			break
		}
	}
	if err != nil {
		refusedByServer := refused(err)
		err = w.s.fail(context.Background(), err, "append")
		if apperr.Is(err, apperr.Unavailable) && !refusedByServer {
			// No answer to the commit: it may have happened.
			return store.ErrMaybeStored
		}
		return err
	}
	w.commits.Add(1)
	for _, r := range batch {
		for i := range r.rows {
			r.seqs[i] += last[r.rows[i].stream]
		}
	}
	return nil
}

func (w *writer) exec(streams []string, ns []int64, eStream []string, eOff, eTS []int64, eKind []int16, eRec, eLeaf [][]byte) (map[store.StreamID]int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), w.s.opts.WriteTimeout)
	defer cancel()
	rows, err := w.s.pool.Query(ctx, appendSQL, streams, ns, eStream, eOff, eTS, eKind, eRec, eLeaf)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	last := make(map[store.StreamID]int64, len(streams))
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n, nil); err != nil {
			return nil, err
		}
		last[store.StreamID(st)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(last) != len(streams) {
		return nil, apperr.Wrap(nil, "append: %d of %d streams returned", len(last), len(streams))
	}
	return last, nil
}
