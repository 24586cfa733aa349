package sqlite

import (
	"context"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// QueueMail stores a mail to be sent.
func (s *Store) QueueMail(ctx context.Context, m store.QueuedMail, lim store.MailLimits) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		res, err := q.ExecContext(ctx, `INSERT INTO mail_outbox (id, recipient, subject, body, created_at, attempts, next_attempt, last_error)
			SELECT ?,?,?,?,?,?,?,?
			WHERE (? = 0 OR (SELECT count(*) FROM mail_outbox) < ?)
			  AND (? = 0 OR (SELECT count(*) FROM mail_outbox WHERE recipient = ?) < ?)`,
			m.ID, m.To, m.Subject, m.Text, sqlcodec.ToNS(m.CreatedAt), m.Attempts, sqlcodec.ToNS(m.NextAttempt), m.LastError,
			lim.Total, lim.Total, lim.PerRecipient, m.To, lim.PerRecipient)
		if err != nil {
			return constraint(err, "queued mail")
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrOutboxFull
		}
		return nil
	})
	return s.internal(err, "queue mail")
}

// ClaimMail claims due, unclaimed mails in one write transaction: the
// single writer serializes claims, so two handles never claim one mail.
func (s *Store) ClaimMail(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]store.QueuedMail, error) {
	var out []store.QueuedMail
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		out = out[:0] // the writer may run fn again
		rows, err := q.QueryContext(ctx, `UPDATE mail_outbox SET claimed_by = ?, claim_expires = ?
			WHERE id IN (SELECT id FROM mail_outbox WHERE next_attempt <= ? AND (claimed_by = '' OR claim_expires <= ?)
				ORDER BY next_attempt, id LIMIT ?)
			RETURNING id, recipient, subject, body, created_at, attempts, next_attempt, last_error`,
			owner, sqlcodec.ToNS(now.Add(lease)), sqlcodec.ToNS(now), sqlcodec.ToNS(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m store.QueuedMail
			var created, next int64
			if err := rows.Scan(&m.ID, &m.To, &m.Subject, &m.Text, &created, &m.Attempts, &next, &m.LastError); err != nil {
				return err
			}
			m.CreatedAt, m.NextAttempt = sqlcodec.FromNS(created), sqlcodec.FromNS(next)
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, s.internal(err, "claim mail")
	}
	store.SortQueuedMail(out) // RETURNING follows no ORDER BY
	return out, nil
}

// DeleteMail removes a sent mail still claimed by owner.
func (s *Store) DeleteMail(ctx context.Context, owner, id string) error {
	return s.claimed(ctx, "delete mail", "DELETE FROM mail_outbox WHERE id = ? AND claimed_by = ?", id, owner)
}

// RetryMail releases owner's claim after a failed attempt.
func (s *Store) RetryMail(ctx context.Context, owner, id string, next time.Time, lastErr string) error {
	return s.claimed(ctx, "retry mail", `UPDATE mail_outbox SET attempts = attempts + 1, next_attempt = ?, last_error = ?,
		claimed_by = '', claim_expires = 0 WHERE id = ? AND claimed_by = ?`, sqlcodec.ToNS(next), lastErr, id, owner)
}

// claimed runs a statement on a mail held by owner: NotFound when it
// changed no row.
func (s *Store) claimed(ctx context.Context, op, query string, args ...any) error {
	var n int64
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		res, err := q.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return s.internal(err, op)
	}
	if n == 0 {
		return notFound("claimed mail")
	}
	return nil
}
