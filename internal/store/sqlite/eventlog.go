package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// Append encodes the entries on the caller's goroutine, then hands them to
// the writer, which commits them with whatever else is queued.
func (s *Store) Append(ctx context.Context, entries []store.NewEntry) ([]int64, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	r := &appendReq{
		ctx:  ctx,
		rows: make([]appendRow, len(entries)),
		seqs: make([]int64, len(entries)),
		done: make(chan error, 1),
	}
	encoded, err := sqlcodec.EncodeEntries(entries)
	if err != nil {
		return nil, err
	}
	for i := range encoded {
		e := &encoded[i]
		r.rows[i] = appendRow{stream: e.Stream, tsMS: e.TsMS, kind: int64(e.Kind), record: e.Record, leaf: e.Leaf[:]}
	}
	if err := s.w.submit(ctx, r, r.done); err != nil {
		return nil, err
	}
	return r.seqs, nil
}

// Read returns up to limit entries of stream after the sequence number.
func (s *Store) Read(ctx context.Context, stream store.StreamID, after int64, limit int) ([]store.StoredEntry, error) {
	q := store.EntryQuery{Stream: stream, AfterSeq: after, Limit: limit}
	if after <= 0 || limit <= 0 {
		return s.Query(ctx, q)
	}
	if recs, first, ok := s.w.tail.read(stream, after, limit, s.opts.Clock.Now()); ok {
		return s.decodeTail(stream, recs, first)
	}
	rows, err := s.readAfter.QueryContext(ctx, string(stream), after, limit)
	if err != nil {
		return nil, s.internal(err, "query entries")
	}
	return s.collectEntries(rows, q)
}

// decodeTail decodes records served by the tail cache, first's first, as
// collectEntries decodes the query's rows.
func (s *Store) decodeTail(stream store.StreamID, recs [][]byte, first int64) ([]store.StoredEntry, error) {
	out := make([]store.StoredEntry, len(recs))
	for i, rec := range recs {
		e, err := audit.DecodeRecord(rec)
		if err != nil {
			return nil, s.internal(err, "decode entry")
		}
		out[i] = store.StoredEntry{Stream: stream, Seq: first + int64(i), Entry: e}
	}
	return out, nil
}

// entryWhere builds the filter shared by Query and Count. Time bounds go
// through stream_hours: the hours they cover give a range of the primary
// key to scan, and ts_ms then picks the exact entries, so an entry whose
// time is far from its neighbours' is still found.
func entryWhere(q store.EntryQuery) (string, []any) {
	var b strings.Builder
	stream := string(q.Stream)
	args := []any{stream}
	b.WriteString(" WHERE sid = (SELECT sid FROM streams WHERE stream = ?)")
	if !q.From.IsZero() || !q.To.IsZero() {
		lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
		if !q.From.IsZero() {
			lo = hourOf(sqlcodec.CeilMS(q.From))
		}
		if !q.To.IsZero() {
			hi = hourOf(sqlcodec.FloorMS(q.To))
		}
		const hours = "FROM stream_hours WHERE hour BETWEEN ? AND ? AND sid = (SELECT sid FROM streams WHERE stream = ?)"
		// The cursor's bound is folded into the window's: given both
		// "seq BETWEEN" and "seq > ?", SQLite started the primary key's
		// range at the window's start and filtered up to the cursor, so
		// a page deep in a stream cost a scan of everything before it
		// (BenchmarkLogPageDeep in internal/console).
		lower, upper := "(SELECT min(min_seq) "+hours+")", "(SELECT max(max_seq) "+hours+")"
		args = append(args, lo, hi, stream)
		if q.AfterSeq > 0 {
			lower = "max(" + lower + ", ?)"
			args = append(args, q.AfterSeq+1)
		}
		args = append(args, lo, hi, stream)
		if q.BeforeSeq > 0 {
			upper = "min(" + upper + ", ?)"
			args = append(args, q.BeforeSeq-1)
		}
		b.WriteString(" AND seq BETWEEN " + lower + " AND " + upper)
		q.AfterSeq, q.BeforeSeq = 0, 0 // in the bounds above
	}
	if !q.From.IsZero() {
		b.WriteString(" AND ts_ms >= ?")
		args = append(args, sqlcodec.CeilMS(q.From))
	}
	if !q.To.IsZero() {
		b.WriteString(" AND ts_ms <= ?")
		args = append(args, sqlcodec.FloorMS(q.To))
	}
	if len(q.Kinds) > 0 {
		b.WriteString(" AND kind IN (")
		for i, k := range q.Kinds {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('?')
			args = append(args, int64(k))
		}
		b.WriteByte(')')
	}
	if q.AfterSeq > 0 {
		b.WriteString(" AND seq > ?")
		args = append(args, q.AfterSeq)
	}
	if q.BeforeSeq > 0 {
		b.WriteString(" AND seq < ?")
		args = append(args, q.BeforeSeq)
	}
	return b.String(), args
}

// Query selects entries of one stream, ordered by sequence number.
func (s *Store) Query(ctx context.Context, q store.EntryQuery) ([]store.StoredEntry, error) {
	where, args := entryWhere(q)
	query := "SELECT seq, record FROM entries" + where + " ORDER BY seq"
	if q.Desc {
		query += " DESC"
	}
	if q.Limit > 0 {
		query += " LIMIT ?"
		args = append(args, q.Limit)
	}
	rows, err := s.rdb.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.internal(err, "query entries")
	}
	return s.collectEntries(rows, q)
}

// collectEntries decodes the rows of Query or Read and closes them.
func (s *Store) collectEntries(rows *sql.Rows, q store.EntryQuery) ([]store.StoredEntry, error) {
	defer rows.Close()
	out := store.EntriesFirst(q.Limit)
	for rows.Next() {
		var seq int64
		var rec sql.RawBytes
		if err := rows.Scan(&seq, &rec); err != nil {
			return nil, s.internal(err, "query entries")
		}
		e, err := audit.DecodeRecord(rec)
		if err != nil {
			return nil, s.internal(err, "decode entry")
		}
		out = store.AppendEntry(out, store.StoredEntry{Stream: q.Stream, Seq: seq, Entry: e}, q.Limit)
	}
	if err := rows.Err(); err != nil {
		return nil, s.internal(err, "query entries")
	}
	return out, nil
}

// Count counts the entries Query would return without a limit.
func (s *Store) Count(ctx context.Context, q store.EntryQuery) (int64, error) {
	where, args := entryWhere(q)
	var n int64
	if err := s.rdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM entries"+where, args...).Scan(&n); err != nil {
		return 0, s.internal(err, "count entries")
	}
	return n, nil
}

// LastSeq is the stream's highest sequence number, 0 when it never had an
// entry. Retention does not lower it.
func (s *Store) LastSeq(ctx context.Context, stream store.StreamID) (int64, error) {
	return s.lastSeq(ctx, s.rdb, stream)
}

func (s *Store) lastSeq(ctx context.Context, q querier, stream store.StreamID) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, "SELECT last_seq FROM streams WHERE stream = ?", string(stream)).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, s.internal(err, "last seq")
	}
	return n, nil
}

// DeleteBefore deletes up to limit entries older than cutoff, in one
// short transaction so appends queue behind it only briefly. It walks
// stream_hours oldest first: each hour wholly before the cutoff is emptied
// through its seq range and then forgotten; the hour holding the cutoff
// loses only its older entries.
func (s *Store) DeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	bound := sqlcodec.CeilMS(cutoff)
	cutHour := hourOf(bound)
	deleted := 0
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		// Whole hours first, in chunks; an emptied hour is deleted, so the
		// loop always progresses.
		for deleted < limit {
			hs, err := loadHours(ctx, q, "hour < ? ORDER BY hour, sid LIMIT 256", cutHour)
			if err != nil || len(hs) == 0 {
				return err
			}
			for _, h := range hs {
				n, err := deleteOlder(ctx, q, h, bound, limit-deleted)
				if err != nil {
					return err
				}
				deleted += n
				if deleted >= limit {
					return nil
				}
				if _, err := q.ExecContext(ctx, "DELETE FROM stream_hours WHERE hour = ? AND sid = ?", h.hour, h.sid); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err == nil && deleted < limit {
		err = s.w.do(ctx, func(ctx context.Context, q querier) error {
			hs, err := loadHours(ctx, q, "hour = ? ORDER BY sid", cutHour)
			for _, h := range hs {
				if err != nil || deleted >= limit {
					break
				}
				var n int
				n, err = deleteOlder(ctx, q, h, bound, limit-deleted)
				deleted += n
			}
			return err
		})
	}
	if err != nil || deleted > 0 { // err first: a job still running after its caller gave up writes deleted
		// Whatever the tail cache holds may be among the deleted (an
		// entry's time is its producer's).
		s.w.tail.clear()
	}
	if err != nil {
		// Not deleted: a caller whose context ended gets its error while
		// the writer may still be running the job and counting.
		return 0, s.internal(err, "delete before")
	}
	return deleted, nil
}

// hourRow is a row of stream_hours.
type hourRow struct{ hour, sid, minSeq, maxSeq int64 }

func loadHours(ctx context.Context, q querier, where string, arg any) ([]hourRow, error) {
	rows, err := q.QueryContext(ctx, "SELECT hour, sid, min_seq, max_seq FROM stream_hours WHERE "+where, arg)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, func(sc interface{ Scan(...any) error }) (hourRow, error) {
		var h hourRow
		err := sc.Scan(&h.hour, &h.sid, &h.minSeq, &h.maxSeq)
		return h, err
	})
}

// deleteOlder deletes up to limit entries of h's seq range older than
// bound (ms).
func deleteOlder(ctx context.Context, q querier, h hourRow, bound int64, limit int) (int, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM entries WHERE rowid IN (SELECT rowid FROM entries
		WHERE sid = ? AND seq BETWEEN ? AND ? AND ts_ms < ? LIMIT ?)`, h.sid, h.minSeq, h.maxSeq, bound, limit)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
