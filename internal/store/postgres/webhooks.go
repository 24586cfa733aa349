package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

const webhookCols = "stream, org_id, portal_id, destination_id, enabled, updated_at"

func scanWebhook(sc scanner) (store.Webhook, error) {
	var w store.Webhook
	var stream string
	var portal, dest *string
	var updated int64
	err := sc.Scan(&stream, &w.OrgID, &portal, &dest, &w.Enabled, &updated)
	w.Stream = store.StreamID(stream)
	if portal != nil {
		w.PortalID = *portal
	}
	if dest != nil {
		w.DestinationID = *dest
	}
	w.UpdatedAt = sqlcodec.FromNS(updated)
	return w, err
}

// GetWebhook returns the stream's webhook; NotFound means unconfigured.
func (s *Store) GetWebhook(ctx context.Context, stream store.StreamID) (store.Webhook, error) {
	return getOne(s, ctx, "get webhook", "webhook", "SELECT "+webhookCols+" FROM webhooks WHERE stream = $1",
		scanWebhook, string(stream))
}

// PutWebhook creates or replaces the stream's webhook. A new webhook gets
// its delivery state with the cursor at the stream's last sequence number,
// read in the same transaction, so it sends only later entries. The
// destination and portal must belong to the webhook's org (else NotFound).
// Every replica hears of the change.
func (s *Store) PutWebhook(ctx context.Context, w store.Webhook) error {
	if w.Stream == "" || w.OrgID == "" {
		return apperr.New(apperr.Invalid, "webhook needs a stream and an org")
	}
	return s.write(ctx, "put webhook", func(ctx context.Context, tx pgx.Tx) error {
		// KEY SHARE, as the foreign keys take: the destination and portal
		// cannot be deleted before this commits.
		if w.DestinationID != "" {
			if err := lockRow(ctx, tx, "destination", "SELECT 1 FROM destinations WHERE org_id = $1 AND id = $2 FOR KEY SHARE",
				w.OrgID, w.DestinationID); err != nil {
				return err
			}
		}
		if w.PortalID != "" {
			if err := lockRow(ctx, tx, "portal", "SELECT 1 FROM portals WHERE org_id = $1 AND id = $2 FOR KEY SHARE",
				w.OrgID, w.PortalID); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, "INSERT INTO webhooks ("+webhookCols+") VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (stream) DO NOTHING",
			string(w.Stream), w.OrgID, nullable(w.PortalID), nullable(w.DestinationID), w.Enabled, sqlcodec.ToNS(w.UpdatedAt))
		if err != nil {
			return constraint(err, "webhook")
		}
		if tag.RowsAffected() == 1 {
			last, err := lastSeq(ctx, tx, w.Stream)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO webhook_state (stream, cursor, status, last_attempt_at,
				last_response_code, last_response_message) VALUES ($1, $2, $3, 0, 0, '')`,
				string(w.Stream), last, store.StatusActive); err != nil {
				return err
			}
		} else {
			if err := lockRow(ctx, tx, "webhook", "SELECT 1 FROM webhooks WHERE stream = $1 AND org_id = $2 FOR UPDATE",
				string(w.Stream), w.OrgID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE webhooks SET destination_id = $1, enabled = $2, updated_at = $3 WHERE stream = $4",
				nullable(w.DestinationID), w.Enabled, sqlcodec.ToNS(w.UpdatedAt), string(w.Stream)); err != nil {
				return constraint(err, "webhook")
			}
		}
		return notify(ctx, tx, change{K: "w", S: string(w.Stream)})
	})
}

// DeleteWebhook removes the webhook and, by cascade, its state.
func (s *Store) DeleteWebhook(ctx context.Context, stream store.StreamID) error {
	return s.write(ctx, "delete webhook", func(ctx context.Context, tx pgx.Tx) error {
		if err := mustAffect(tx.Exec(ctx, "DELETE FROM webhooks WHERE stream = $1", string(stream)))("webhook"); err != nil {
			return err
		}
		return notify(ctx, tx, change{K: "w", S: string(stream)})
	})
}

// ListEnabledWebhooks lists every enabled webhook, for the dispatchers.
func (s *Store) ListEnabledWebhooks(ctx context.Context) ([]store.Webhook, error) {
	out, _, err := list(s, ctx, "list webhooks", "SELECT "+webhookCols+" FROM webhooks WHERE enabled ORDER BY stream",
		nil, store.Page{}, scanWebhook)
	return out, err
}

// WebhooksUsingDestination lists the org's webhooks that use a destination.
func (s *Store) WebhooksUsingDestination(ctx context.Context, orgID, destinationID string) ([]store.Webhook, error) {
	out, _, err := list(s, ctx, "list webhooks",
		"SELECT "+webhookCols+" FROM webhooks WHERE org_id = $1 AND destination_id = $2 ORDER BY stream",
		args{orgID, destinationID}, store.Page{}, scanWebhook)
	return out, err
}
