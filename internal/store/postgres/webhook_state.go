package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// GetWebhookState returns where the webhook's delivery stands.
func (s *Store) GetWebhookState(ctx context.Context, stream store.StreamID) (store.WebhookState, error) {
	var st store.WebhookState
	err := s.read(ctx, "get webhook state", func(ctx context.Context, q querier) error {
		st = store.WebhookState{Stream: stream}
		var attempt, lostAt int64
		err := q.QueryRow(ctx, `SELECT cursor, status, last_attempt_at, last_response_code, last_response_message,
			lost_entries, last_lost_at FROM webhook_state WHERE stream = $1`, string(stream)).
			Scan(&st.Cursor, &st.Status, &attempt, &st.LastResponseCode, &st.LastResponseMessage, &st.LostEntries, &lostAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("webhook")
		}
		if err != nil {
			return err
		}
		st.LastAttemptAt = sqlcodec.FromNS(attempt)
		st.LastLostAt = sqlcodec.FromNS(lostAt)
		st.FailedRanges, err = failedRanges(ctx, q, stream)
		return err
	})
	if err != nil {
		return store.WebhookState{}, err
	}
	return st, nil
}

func failedRanges(ctx context.Context, q querier, stream store.StreamID) ([]store.SeqRange, error) {
	rows, err := q.Query(ctx, "SELECT from_seq, to_seq FROM failed_ranges WHERE stream = $1 ORDER BY from_seq", string(stream))
	out, err := collect(rows, err, func(sc scanner) (store.SeqRange, error) {
		var r store.SeqRange
		err := sc.Scan(&r.From, &r.To)
		return r, err
	})
	if len(out) == 0 {
		out = nil
	}
	return out, err
}

// checkFence fails with store.ErrLeaseLost unless the named lease has the
// fence's epoch. It share-locks the lease row until the writing
// transaction ends, so a take-over (which updates the row) waits for this
// write, and a write after a take-over sees the new epoch.
func checkFence(ctx context.Context, tx pgx.Tx, lease string, fence store.Fence) error {
	if fence == store.NoFence {
		return nil
	}
	var epoch int64
	err := tx.QueryRow(ctx, "SELECT epoch FROM leases WHERE name = $1 FOR SHARE", lease).Scan(&epoch)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && store.Fence(epoch) != fence) {
		return store.ErrLeaseLost
	}
	return err
}

// RecordAttempt stores an attempt's outcome: active after a 2xx, inactive
// otherwise.
func (s *Store) RecordAttempt(ctx context.Context, stream store.StreamID, fence store.Fence, a store.Attempt) error {
	status := store.StatusInactive
	if a.OK {
		status = store.StatusActive
	}
	return s.write(ctx, "record attempt", func(ctx context.Context, tx pgx.Tx) error {
		if err := checkFence(ctx, tx, store.WebhookLease(stream), fence); err != nil {
			return err
		}
		if err := mustAffect(tx.Exec(ctx, `UPDATE webhook_state SET status = $1, last_attempt_at = $2,
			last_response_code = $3, last_response_message = $4 WHERE stream = $5`,
			status, sqlcodec.ToNS(a.At), a.ResponseCode, a.Message, string(stream)))("webhook"); err != nil {
			return err
		}
		return recordAttemptHistory(ctx, tx, stream, a)
	})
}

// AdvanceCursor moves the cursor forward to seq (a lower seq leaves it
// where it is) and records failed, merged with the ranges already
// recorded, in the same transaction.
func (s *Store) AdvanceCursor(ctx context.Context, stream store.StreamID, fence store.Fence, seq int64, failed *store.SeqRange) error {
	if failed != nil && (failed.From <= 0 || failed.To < failed.From) {
		return apperr.New(apperr.Invalid, "bad failed range %d-%d", failed.From, failed.To)
	}
	return s.write(ctx, "advance cursor", func(ctx context.Context, tx pgx.Tx) error {
		if err := checkFence(ctx, tx, store.WebhookLease(stream), fence); err != nil {
			return err
		}
		// The UPDATE also locks the state row, for the ranges below.
		if err := mustAffect(tx.Exec(ctx, "UPDATE webhook_state SET cursor = GREATEST(cursor, $1) WHERE stream = $2",
			seq, string(stream)))("webhook"); err != nil {
			return err
		}
		if failed == nil {
			return nil
		}
		have, err := failedRanges(ctx, tx, stream)
		if err != nil {
			return err
		}
		return replaceRanges(ctx, tx, stream, store.AddRange(have, *failed))
	})
}

// ResolveFailedRange removes r from the failed ranges; the parts of a
// recorded range outside r stay recorded.
func (s *Store) ResolveFailedRange(ctx context.Context, stream store.StreamID, fence store.Fence, r store.SeqRange) error {
	return s.write(ctx, "resolve failed range", func(ctx context.Context, tx pgx.Tx) error {
		if err := checkFence(ctx, tx, store.WebhookLease(stream), fence); err != nil {
			return err
		}
		if err := lockRow(ctx, tx, "webhook", "SELECT 1 FROM webhook_state WHERE stream = $1 FOR UPDATE", string(stream)); err != nil {
			return err
		}
		have, err := failedRanges(ctx, tx, stream)
		if err != nil {
			return err
		}
		return replaceRanges(ctx, tx, stream, store.SubtractRange(have, r))
	})
}

// RecordLoss gives up l.Range and counts its missing entries, in one
// transaction with the fence check.
func (s *Store) RecordLoss(ctx context.Context, stream store.StreamID, fence store.Fence, l store.Loss) error {
	if err := store.CheckLoss(l); err != nil {
		return err
	}
	return s.write(ctx, "record loss", func(ctx context.Context, tx pgx.Tx) error {
		if err := checkFence(ctx, tx, store.WebhookLease(stream), fence); err != nil {
			return err
		}
		// The UPDATE also locks the state row, for the ranges below.
		if err := mustAffect(tx.Exec(ctx, `UPDATE webhook_state SET cursor = GREATEST(cursor, $1),
			lost_entries = lost_entries + $2, last_lost_at = $3 WHERE stream = $4`,
			l.Range.To, l.Entries, sqlcodec.ToNS(l.At), string(stream)))("webhook"); err != nil {
			return err
		}
		have, err := failedRanges(ctx, tx, stream)
		if err != nil {
			return err
		}
		return replaceRanges(ctx, tx, stream, store.SubtractRange(have, l.Range))
	})
}

func replaceRanges(ctx context.Context, tx pgx.Tx, stream store.StreamID, rs []store.SeqRange) error {
	if _, err := tx.Exec(ctx, "DELETE FROM failed_ranges WHERE stream = $1", string(stream)); err != nil {
		return err
	}
	if len(rs) == 0 {
		return nil
	}
	from, to := make([]int64, len(rs)), make([]int64, len(rs))
	for i, r := range rs {
		from[i], to[i] = r.From, r.To
	}
	_, err := tx.Exec(ctx, "INSERT INTO failed_ranges (stream, from_seq, to_seq) SELECT $1, f, t FROM unnest($2::bigint[], $3::bigint[]) AS u (f, t)",
		string(stream), from, to)
	return err
}
