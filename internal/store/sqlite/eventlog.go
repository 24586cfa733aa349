package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// Append encodes the entries on the caller's goroutine, then hands them to
// the writer, which commits them with whatever else is queued.
func (s *Store) Append(ctx context.Context, entries []store.NewEntry) ([]int64, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	r := &appendReq{
		ctx:     ctx,
		streams: make([]store.StreamID, len(entries)),
		tsMS:    make([]int64, len(entries)),
		kinds:   make([]int64, len(entries)),
		records: make([][]byte, len(entries)),
		seqs:    make([]int64, len(entries)),
		done:    make(chan error, 1),
	}
	for i := range entries {
		e := &entries[i]
		if e.Stream == "" {
			return nil, apperr.New(apperr.Invalid, "entry %d has no stream", i)
		}
		switch e.Entry.Kind {
		case audit.KindAuthentication, audit.KindAuthorization, audit.KindAccess:
		default:
			return nil, apperr.New(apperr.Invalid, "entry %d has unknown kind %d", i, e.Entry.Kind)
		}
		r.streams[i] = e.Stream
		r.tsMS[i] = e.Entry.Time.UnixMilli()
		r.kinds[i] = int64(e.Entry.Kind)
		r.records[i] = audit.AppendRecord(nil, &e.Entry)
	}
	if err := s.w.submit(ctx, r, r.done); err != nil {
		return nil, err
	}
	return r.seqs, nil
}

// Read returns up to limit entries of stream after the sequence number.
func (s *Store) Read(ctx context.Context, stream store.StreamID, after int64, limit int) ([]store.StoredEntry, error) {
	return s.Query(ctx, store.EntryQuery{Stream: stream, AfterSeq: after, Limit: limit})
}

// where builds the filter shared by Query and Count.
func entryWhere(q store.EntryQuery) (string, []any) {
	var b strings.Builder
	args := []any{string(q.Stream)}
	b.WriteString(" WHERE sid = (SELECT sid FROM streams WHERE stream = ?)")
	if !q.From.IsZero() {
		b.WriteString(" AND ts_ms >= ?")
		args = append(args, ceilMS(q.From))
	}
	if !q.To.IsZero() {
		b.WriteString(" AND ts_ms <= ?")
		args = append(args, floorMS(q.To))
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
	defer rows.Close()
	var out []store.StoredEntry
	if q.Limit > 0 {
		out = make([]store.StoredEntry, 0, min(q.Limit, 1024))
	}
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
		out = append(out, store.StoredEntry{Stream: q.Stream, Seq: seq, Entry: e})
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

// DeleteBefore deletes up to limit entries older than cutoff, stream by
// stream (each delete walks the (sid, ts_ms) index), in one short
// transaction so appends queue behind it only briefly.
func (s *Store) DeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	bound := ceilMS(cutoff)
	deleted := 0
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		rows, err := q.QueryContext(ctx, "SELECT sid FROM streams ORDER BY sid")
		if err != nil {
			return err
		}
		var streams []int64
		for rows.Next() {
			var st int64
			if err := rows.Scan(&st); err != nil {
				rows.Close()
				return err
			}
			streams = append(streams, st)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for _, st := range streams {
			if deleted >= limit {
				break
			}
			res, err := q.ExecContext(ctx, `DELETE FROM entries WHERE rowid IN
				(SELECT rowid FROM entries WHERE sid = ? AND ts_ms < ? LIMIT ?)`, st, bound, limit-deleted)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			deleted += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, s.internal(err, "delete before")
	}
	return deleted, nil
}
