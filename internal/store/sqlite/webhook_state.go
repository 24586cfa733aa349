package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// GetWebhookState returns where the webhook's delivery stands.
func (s *Store) GetWebhookState(ctx context.Context, stream store.StreamID) (store.WebhookState, error) {
	// The deferred move is read first: whatever its dispatcher wrote
	// before deferring it (the attempt's status) is then committed before
	// the row is read, so the answer is never a cursor ahead of its status.
	pending := s.w.cursors.pendingCursor(stream)
	st, err := getWebhookState(ctx, s.rdb, stream)
	if err == nil {
		st.Cursor = max(st.Cursor, pending)
	}
	return st, s.internal(err, "get webhook state")
}

func getWebhookState(ctx context.Context, q querier, stream store.StreamID) (store.WebhookState, error) {
	st := store.WebhookState{Stream: stream}
	var attempt, lostAt int64
	err := q.QueryRowContext(ctx, `SELECT cursor, status, last_attempt_at, last_response_code, last_response_message,
		lost_entries, last_lost_at FROM webhook_state WHERE stream = ?`, string(stream)).
		Scan(&st.Cursor, &st.Status, &attempt, &st.LastResponseCode, &st.LastResponseMessage, &st.LostEntries, &lostAt)
	if errors.Is(err, sql.ErrNoRows) {
		return store.WebhookState{}, notFound("webhook")
	}
	if err != nil {
		return store.WebhookState{}, err
	}
	st.LastAttemptAt = sqlcodec.FromNS(attempt)
	st.LastLostAt = sqlcodec.FromNS(lostAt)
	st.FailedRanges, err = failedRanges(ctx, q, stream)
	return st, err
}

func failedRanges(ctx context.Context, q querier, stream store.StreamID) ([]store.SeqRange, error) {
	rows, err := q.QueryContext(ctx, "SELECT from_seq, to_seq FROM failed_ranges WHERE stream = ? ORDER BY from_seq", string(stream))
	if err != nil {
		return nil, err
	}
	return collectRows(rows, func(sc interface{ Scan(...any) error }) (store.SeqRange, error) {
		var r store.SeqRange
		err := sc.Scan(&r.From, &r.To)
		return r, err
	})
}

// RecordAttempt stores an attempt's outcome: active after a 2xx, inactive
// otherwise.
func (s *Store) RecordAttempt(ctx context.Context, stream store.StreamID, fence store.Fence, a store.Attempt) error {
	status := store.StatusInactive
	if a.OK {
		status = store.StatusActive
	}
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		if err := checkFence(ctx, q, store.WebhookLease(stream), fence); err != nil {
			return err
		}
		if err := mustAffect(q.ExecContext(ctx, `UPDATE webhook_state SET status = ?, last_attempt_at = ?,
			last_response_code = ?, last_response_message = ? WHERE stream = ?`,
			status, sqlcodec.ToNS(a.At), a.ResponseCode, a.Message, string(stream)))("webhook"); err != nil {
			return err
		}
		return recordAttemptHistory(ctx, q, stream, a)
	})
	return s.internal(err, "record attempt")
}

// AdvanceCursor moves the cursor forward to seq (a lower seq leaves it
// where it is) and records failed, merged with the ranges already
// recorded, in the same transaction. It commits without fsync (doLazy): a
// process crash keeps it, an OS crash may take the cursor back to where
// the last fsync'd commit left it, so entries already sent go again.
func (s *Store) AdvanceCursor(ctx context.Context, stream store.StreamID, fence store.Fence, seq int64, failed *store.SeqRange) error {
	if failed != nil && (failed.From <= 0 || failed.To < failed.From) {
		return apperr.New(apperr.Invalid, "bad failed range %d-%d", failed.From, failed.To)
	}
	err := s.w.doLazy(ctx, func(ctx context.Context, q querier) error {
		if err := checkFence(ctx, q, store.WebhookLease(stream), fence); err != nil {
			return err
		}
		if err := mustAffect(q.ExecContext(ctx, "UPDATE webhook_state SET cursor = max(cursor, ?) WHERE stream = ?",
			seq, string(stream)))("webhook"); err != nil {
			return err
		}
		if failed == nil {
			return nil
		}
		have, err := failedRanges(ctx, q, stream)
		if err != nil {
			return err
		}
		return replaceRanges(ctx, q, stream, store.AddRange(have, *failed))
	})
	return s.internal(err, "advance cursor")
}

// ResolveFailedRange removes r from the failed ranges; the parts of a
// recorded range outside r stay recorded.
func (s *Store) ResolveFailedRange(ctx context.Context, stream store.StreamID, fence store.Fence, r store.SeqRange) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		if err := checkFence(ctx, q, store.WebhookLease(stream), fence); err != nil {
			return err
		}
		if _, err := getWebhookState(ctx, q, stream); err != nil {
			return err
		}
		have, err := failedRanges(ctx, q, stream)
		if err != nil {
			return err
		}
		return replaceRanges(ctx, q, stream, store.SubtractRange(have, r))
	})
	return s.internal(err, "resolve failed range")
}

// RecordLoss gives up l.Range and counts its missing entries, in one
// transaction with the fence check.
func (s *Store) RecordLoss(ctx context.Context, stream store.StreamID, fence store.Fence, l store.Loss) error {
	if err := store.CheckLoss(l); err != nil {
		return err
	}
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		if err := checkFence(ctx, q, store.WebhookLease(stream), fence); err != nil {
			return err
		}
		if err := mustAffect(q.ExecContext(ctx, `UPDATE webhook_state SET cursor = max(cursor, ?),
			lost_entries = lost_entries + ?, last_lost_at = ? WHERE stream = ?`,
			l.Range.To, l.Entries, sqlcodec.ToNS(l.At), string(stream)))("webhook"); err != nil {
			return err
		}
		have, err := failedRanges(ctx, q, stream)
		if err != nil {
			return err
		}
		return replaceRanges(ctx, q, stream, store.SubtractRange(have, l.Range))
	})
	return s.internal(err, "record loss")
}

func replaceRanges(ctx context.Context, q querier, stream store.StreamID, rs []store.SeqRange) error {
	if _, err := q.ExecContext(ctx, "DELETE FROM failed_ranges WHERE stream = ?", string(stream)); err != nil {
		return err
	}
	for _, r := range rs {
		if _, err := q.ExecContext(ctx, "INSERT INTO failed_ranges (stream, from_seq, to_seq) VALUES (?, ?, ?)",
			string(stream), r.From, r.To); err != nil {
			return err
		}
	}
	return nil
}
