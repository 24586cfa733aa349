package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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
		ctx:             ctx,
		dropIfAbandoned: store.DropsIfAbandoned(ctx),
		rows:            make([]appendRow, len(entries)),
		seqs:            make([]int64, len(entries)),
		done:            make(chan error, 1),
	}
	encoded, err := sqlcodec.EncodeEntries(entries)
	if err != nil {
		return nil, err
	}
	for i := range encoded {
		e := &encoded[i]
		r.rows[i] = appendRow{stream: e.Stream, tsMS: e.TsMS, kind: int16(e.Kind), record: e.Record, leaf: e.Leaf[:]}
	}
	if err := s.w.submit(ctx, r); err != nil {
		return nil, s.fail(ctx, err, "append")
	}
	return r.seqs, nil
}

// Read returns up to limit entries of stream after the sequence number.
func (s *Store) Read(ctx context.Context, stream store.StreamID, after int64, limit int) ([]store.StoredEntry, error) {
	return s.Query(ctx, store.EntryQuery{Stream: stream, AfterSeq: after, Limit: limit})
}

// args collects query arguments and names their placeholders.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return fmt.Sprintf("$%d", len(*a))
}

// entryWhere builds the filter shared by Query and Count. Time bounds use
// the (sid, ts_ms) index.
func entryWhere(q store.EntryQuery, a *args) string {
	var b strings.Builder
	b.WriteString(" WHERE sid = (SELECT sid FROM streams WHERE stream = " + a.add(string(q.Stream)) + ")")
	if !q.From.IsZero() {
		b.WriteString(" AND ts_ms >= " + a.add(sqlcodec.CeilMS(q.From)))
	}
	if !q.To.IsZero() {
		b.WriteString(" AND ts_ms <= " + a.add(sqlcodec.FloorMS(q.To)))
	}
	if len(q.Kinds) > 0 {
		kinds := make([]int16, len(q.Kinds))
		for i, k := range q.Kinds {
			kinds[i] = int16(k)
		}
		b.WriteString(" AND kind = ANY(" + a.add(kinds) + "::smallint[])")
	}
	if q.AfterSeq > 0 {
		b.WriteString(" AND seq > " + a.add(q.AfterSeq))
	}
	if q.BeforeSeq > 0 {
		b.WriteString(" AND seq < " + a.add(q.BeforeSeq))
	}
	return b.String()
}

// Query selects entries of one stream, ordered by sequence number.
func (s *Store) Query(ctx context.Context, q store.EntryQuery) ([]store.StoredEntry, error) {
	var a args
	query := "SELECT seq, record FROM entries" + entryWhere(q, &a) + " ORDER BY seq"
	if q.Desc {
		query += " DESC"
	}
	if q.Limit > 0 {
		query += " LIMIT " + a.add(q.Limit)
	}
	var out []store.StoredEntry
	err := s.read(ctx, "query entries", func(ctx context.Context, db querier) error {
		out = out[:0]
		if out == nil {
			out = store.EntriesFirst(q.Limit)
		}
		rows, err := db.Query(ctx, query, a...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var seq int64
			// RawValues are only valid until Next: decoded at once.
			if err := rows.Scan(&seq, nil); err != nil {
				return err
			}
			e, err := audit.DecodeRecord(rows.RawValues()[1])
			if err != nil {
				return fmt.Errorf("decode entry %s/%d: %w", q.Stream, seq, err)
			}
			out = store.AppendEntry(out, store.StoredEntry{Stream: q.Stream, Seq: seq, Entry: e}, q.Limit)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// countTimeout bounds Count instead of CallTimeout: only a replay job
// counts, in the background, and a week of a busy stream is many rows.
const countTimeout = 10 * time.Minute

// Count counts the entries Query would return without a limit.
func (s *Store) Count(ctx context.Context, q store.EntryQuery) (int64, error) {
	var a args
	query := "SELECT count(*) FROM entries" + entryWhere(q, &a)
	var n int64
	err := s.readWithin(ctx, max(countTimeout, s.opts.CallTimeout), "count entries", func(ctx context.Context, db querier) error {
		return db.QueryRow(ctx, query, a...).Scan(&n)
	})
	return n, err
}

// LastSeq is the stream's highest sequence number, 0 when it never had an
// entry. Retention does not lower it.
func (s *Store) LastSeq(ctx context.Context, stream store.StreamID) (int64, error) {
	var n int64
	err := s.read(ctx, "last seq", func(ctx context.Context, db querier) error {
		var err error
		n, err = lastSeq(ctx, db, stream)
		return err
	})
	return n, err
}

func lastSeq(ctx context.Context, q querier, stream store.StreamID) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, "SELECT last_seq FROM streams WHERE stream = $1", string(stream)).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return n, err
}

// DeleteBefore deletes up to limit entries older than cutoff, in one
// statement: it walks the streams and takes each one's old entries from
// the (sid, ts_ms) index, so the cost follows the entries deleted and the
// number of streams, not the size of the log. Appends go on meanwhile:
// they only add rows.
func (s *Store) DeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	var n int64
	err := s.write(ctx, "delete before", func(ctx context.Context, tx pgx.Tx) error {
		// By ctid (a TID scan): joining on (sid, seq) instead was planned
		// as a hash join over the whole table. Entries are never updated,
		// so their ctids stay put.
		tag, err := tx.Exec(ctx, `DELETE FROM entries WHERE ctid = ANY (ARRAY(
				SELECT o.ctid FROM streams st CROSS JOIN LATERAL (
					SELECT ctid FROM entries WHERE sid = st.sid AND ts_ms < $1 LIMIT $2
				) o LIMIT $2))`, sqlcodec.CeilMS(cutoff), limit)
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}
