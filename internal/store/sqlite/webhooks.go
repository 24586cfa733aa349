package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

const webhookCols = "stream, org_id, portal_id, destination_id, enabled, updated_at"

func scanWebhook(sc interface{ Scan(...any) error }) (store.Webhook, error) {
	var w store.Webhook
	var stream string
	var portal, dest sql.NullString
	var updated int64
	err := sc.Scan(&stream, &w.OrgID, &portal, &dest, &w.Enabled, &updated)
	w.Stream = store.StreamID(stream)
	w.PortalID = portal.String
	w.DestinationID = dest.String
	w.UpdatedAt = sqlcodec.FromNS(updated)
	return w, err
}

// GetWebhook returns the stream's webhook; NotFound means unconfigured.
func (s *Store) GetWebhook(ctx context.Context, stream store.StreamID) (store.Webhook, error) {
	w, err := scanWebhook(s.rdb.QueryRowContext(ctx, "SELECT "+webhookCols+" FROM webhooks WHERE stream = ?", string(stream)))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Webhook{}, notFound("webhook")
	}
	return w, s.internal(err, "get webhook")
}

// PutWebhook creates or replaces the stream's webhook. A new webhook gets
// its delivery state with the cursor at the stream's last sequence number,
// read in the same transaction, so it sends only later entries. The
// destination and portal must belong to the webhook's org (else NotFound).
func (s *Store) PutWebhook(ctx context.Context, w store.Webhook) error {
	if w.Stream == "" || w.OrgID == "" {
		return apperr.New(apperr.Invalid, "webhook needs a stream and an org")
	}
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		if err := belongs(ctx, q, "destinations", w.OrgID, w.DestinationID, "destination"); err != nil {
			return err
		}
		if err := belongs(ctx, q, "portals", w.OrgID, w.PortalID, "portal"); err != nil {
			return err
		}
		var owner string
		err := q.QueryRowContext(ctx, "SELECT org_id FROM webhooks WHERE stream = ?", string(w.Stream)).Scan(&owner)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := q.ExecContext(ctx, "INSERT INTO webhooks ("+webhookCols+") VALUES (?,?,?,?,?,?)",
				string(w.Stream), w.OrgID, nullable(w.PortalID), nullable(w.DestinationID), boolInt(w.Enabled),
				sqlcodec.ToNS(w.UpdatedAt)); err != nil {
				return constraint(err, "webhook")
			}
			last, err := s.lastSeq(ctx, q, w.Stream)
			if err != nil {
				return err
			}
			_, err = q.ExecContext(ctx, `INSERT INTO webhook_state (stream, cursor, status, last_attempt_at,
				last_response_code, last_response_message) VALUES (?, ?, ?, 0, 0, '')`,
				string(w.Stream), last, store.StatusActive)
			return err
		case err != nil:
			return err
		case owner != w.OrgID:
			return notFound("webhook")
		}
		_, err = q.ExecContext(ctx, "UPDATE webhooks SET destination_id = ?, enabled = ?, updated_at = ? WHERE stream = ?",
			nullable(w.DestinationID), boolInt(w.Enabled), sqlcodec.ToNS(w.UpdatedAt), string(w.Stream))
		return constraint(err, "webhook")
	})
	return s.internal(err, "put webhook")
}

// belongs checks that the row id of table (if set) belongs to the org.
func belongs(ctx context.Context, q querier, table, orgID, id, what string) error {
	if id == "" {
		return nil
	}
	var n int
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table+" WHERE org_id = ? AND id = ?", orgID, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return notFound(what)
	}
	return nil
}

// DeleteWebhook removes the webhook and, by cascade, its state.
func (s *Store) DeleteWebhook(ctx context.Context, stream store.StreamID) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		return mustAffect(q.ExecContext(ctx, "DELETE FROM webhooks WHERE stream = ?", string(stream)))("webhook")
	})
	if err == nil {
		// A move deferred for the deleted webhook must not be made on
		// one created later on the same stream.
		s.w.cursors.drop(stream)
	}
	return s.internal(err, "delete webhook")
}

// ListEnabledWebhooks lists every enabled webhook, for the dispatchers.
func (s *Store) ListEnabledWebhooks(ctx context.Context) ([]store.Webhook, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+webhookCols+" FROM webhooks WHERE enabled = 1 ORDER BY stream")
	if err != nil {
		return nil, s.internal(err, "list webhooks")
	}
	out, err := collectRows(rows, scanWebhook)
	return out, s.internal(err, "list webhooks")
}

// WebhooksUsingDestination lists the org's webhooks that use a destination.
func (s *Store) WebhooksUsingDestination(ctx context.Context, orgID, destinationID string) ([]store.Webhook, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+webhookCols+" FROM webhooks WHERE org_id = ? AND destination_id = ? ORDER BY stream",
		orgID, destinationID)
	if err != nil {
		return nil, s.internal(err, "list webhooks")
	}
	out, err := collectRows(rows, scanWebhook)
	return out, s.internal(err, "list webhooks")
}
