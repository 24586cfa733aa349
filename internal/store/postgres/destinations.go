package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

const destinationCols = `id, org_id, name, endpoint, authorization_header, log_format, skip_ssl_verification,
	legacy, created_at, updated_at, ordering, sequence_numbers`

func scanDestination(sc scanner) (store.Destination, error) {
	var d store.Destination
	var format string
	var created, updated int64
	err := sc.Scan(&d.ID, &d.OrgID, &d.Name, &d.Endpoint, &d.Authorization, &format, &d.SkipSSLVerification,
		&d.Legacy, &created, &updated, &d.Ordering, &d.SequenceNumbers)
	d.LogFormat = audit.Format(format)
	d.CreatedAt = sqlcodec.FromNS(created)
	d.UpdatedAt = sqlcodec.FromNS(updated)
	return d, err
}

// CreateDestination stores a destination; an unknown org is NotFound, a
// reused ID a Conflict.
func (s *Store) CreateDestination(ctx context.Context, d store.Destination) error {
	return s.write(ctx, "create destination", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO destinations ("+destinationCols+") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)",
			d.ID, d.OrgID, d.Name, d.Endpoint, d.Authorization, string(d.LogFormat), d.SkipSSLVerification,
			d.Legacy, sqlcodec.ToNS(d.CreatedAt), sqlcodec.ToNS(d.UpdatedAt), store.NormalOrdering(d.Ordering),
			d.SequenceNumbers)
		return constraint(err, "destination")
	})
}

// GetDestination finds one of the org's destinations, legacy ones included.
func (s *Store) GetDestination(ctx context.Context, orgID, id string) (store.Destination, error) {
	return getOne(s, ctx, "get destination", "destination",
		"SELECT "+destinationCols+" FROM destinations WHERE org_id = $1 AND id = $2", scanDestination, orgID, id)
}

// ListDestinations lists one page of the org's non-legacy destinations.
func (s *Store) ListDestinations(ctx context.Context, orgID string, f store.NameFilter, p store.Page) ([]store.Destination, bool, error) {
	a := args{orgID}
	query := pageQuery(nameFilter("SELECT "+destinationCols+" FROM destinations WHERE org_id = $1 AND NOT legacy", &a, f), &a, p)
	return list(s, ctx, "list destinations", query, a, p, scanDestination)
}

// UpdateDestination replaces a destination's fields (not its org, legacy
// mark or creation time). Only a change to how it delivers is announced
// to the replicas: one to its name alone would stop their requests in
// flight to it for nothing (store.SameDelivery).
func (s *Store) UpdateDestination(ctx context.Context, d store.Destination) error {
	return s.write(ctx, "update destination", func(ctx context.Context, tx pgx.Tx) error {
		old, err := scanDestination(tx.QueryRow(ctx,
			"SELECT "+destinationCols+" FROM destinations WHERE org_id = $1 AND id = $2 FOR UPDATE", d.OrgID, d.ID))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("destination")
		}
		if err != nil {
			return err
		}
		// The row is locked: the update finds it.
		if _, err := tx.Exec(ctx, `UPDATE destinations SET name = $1, endpoint = $2, authorization_header = $3,
			log_format = $4, skip_ssl_verification = $5, updated_at = $6, ordering = $7, sequence_numbers = $8 WHERE org_id = $9 AND id = $10`,
			d.Name, d.Endpoint, d.Authorization, string(d.LogFormat), d.SkipSSLVerification,
			sqlcodec.ToNS(d.UpdatedAt), store.NormalOrdering(d.Ordering), d.SequenceNumbers, d.OrgID, d.ID); err != nil {
			return err
		}
		next := d
		next.Legacy = old.Legacy // not written
		if store.SameDelivery(old, next) {
			return nil
		}
		return notify(ctx, tx, change{K: "d", O: d.OrgID, D: d.ID})
	})
}

// DeleteDestination deletes a destination no webhook refers to. The row
// is locked first, so a webhook taking it up concurrently either commits
// before (and the delete is a Conflict) or waits and then fails to find it.
func (s *Store) DeleteDestination(ctx context.Context, orgID, id string) error {
	return s.write(ctx, "delete destination", func(ctx context.Context, tx pgx.Tx) error {
		if err := lockRow(ctx, tx, "destination", "SELECT 1 FROM destinations WHERE org_id = $1 AND id = $2 FOR UPDATE",
			orgID, id); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM webhooks WHERE destination_id = $1", id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return apperr.New(apperr.Conflict, "destination is in use by %d webhook(s)", n)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM destinations WHERE org_id = $1 AND id = $2", orgID, id); err != nil {
			if sqlState(err) == "23503" {
				return apperr.New(apperr.Conflict, "destination is in use by a webhook")
			}
			return err
		}
		return notify(ctx, tx, change{K: "d", O: orgID, D: id})
	})
}
