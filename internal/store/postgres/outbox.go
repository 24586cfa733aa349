package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// QueueMail stores a mail to be sent.
func (s *Store) QueueMail(ctx context.Context, m store.QueuedMail, lim store.MailLimits) error {
	return s.write(ctx, "queue mail", func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO mail_outbox (id, recipient, subject, body, created_at, attempts, next_attempt, last_error)
			SELECT $1::text, $2::text, $3::text, $4::text, $5::bigint, $6::integer, $7::bigint, $8::text
			WHERE ($9::integer = 0 OR (SELECT count(*) FROM mail_outbox) < $9)
			  AND ($10::integer = 0 OR (SELECT count(*) FROM mail_outbox WHERE recipient = $2) < $10)`,
			m.ID, m.To, m.Subject, m.Text, sqlcodec.ToNS(m.CreatedAt), m.Attempts, sqlcodec.ToNS(m.NextAttempt), m.LastError,
			lim.Total, lim.PerRecipient)
		if err != nil {
			return constraint(err, "queued mail")
		}
		if tag.RowsAffected() == 0 {
			return store.ErrOutboxFull
		}
		return nil
	})
}

// ClaimMail claims due, unclaimed mails. FOR UPDATE SKIP LOCKED lets
// replicas claim at once without waiting on each other's rows, and the
// re-checked condition under the row lock keeps a mail from being claimed
// twice.
func (s *Store) ClaimMail(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]store.QueuedMail, error) {
	var out []store.QueuedMail
	err := s.write(ctx, "claim mail", func(ctx context.Context, tx pgx.Tx) error {
		out = out[:0] // a retried transaction starts again
		rows, err := tx.Query(ctx, `UPDATE mail_outbox SET claimed_by = $1, claim_expires = $2
			WHERE id IN (SELECT id FROM mail_outbox WHERE next_attempt <= $3 AND (claimed_by = '' OR claim_expires <= $3)
				ORDER BY next_attempt, id LIMIT $4 FOR UPDATE SKIP LOCKED)
			RETURNING id, recipient, subject, body, created_at, attempts, next_attempt, last_error`,
			owner, sqlcodec.ToNS(now.Add(lease)), sqlcodec.ToNS(now), limit)
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
		return nil, err
	}
	store.SortQueuedMail(out) // RETURNING follows no ORDER BY
	return out, nil
}

// DeleteMail removes a sent mail still claimed by owner.
func (s *Store) DeleteMail(ctx context.Context, owner, id string) error {
	return s.claimed(ctx, "delete mail", "DELETE FROM mail_outbox WHERE id = $1 AND claimed_by = $2", id, owner)
}

// RetryMail releases owner's claim after a failed attempt.
func (s *Store) RetryMail(ctx context.Context, owner, id string, next time.Time, lastErr string) error {
	return s.claimed(ctx, "retry mail", `UPDATE mail_outbox SET attempts = attempts + 1, next_attempt = $3, last_error = $4,
		claimed_by = '', claim_expires = 0 WHERE id = $1 AND claimed_by = $2`, id, owner, sqlcodec.ToNS(next), lastErr)
}

// claimed runs a statement on a mail held by owner: NotFound when it
// changed no row.
func (s *Store) claimed(ctx context.Context, op, query string, args ...any) error {
	var n int64
	err := s.write(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, query, args...)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound("claimed mail")
	}
	return nil
}
