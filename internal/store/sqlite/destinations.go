package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

const destinationCols = `id, org_id, name, endpoint, authorization, log_format, skip_ssl_verification,
	legacy, created_at, updated_at, ordering, sequence_numbers`

func scanDestination(sc interface{ Scan(...any) error }) (store.Destination, error) {
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
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		_, err := q.ExecContext(ctx, "INSERT INTO destinations ("+destinationCols+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
			d.ID, d.OrgID, d.Name, d.Endpoint, d.Authorization, string(d.LogFormat), boolInt(d.SkipSSLVerification),
			boolInt(d.Legacy), sqlcodec.ToNS(d.CreatedAt), sqlcodec.ToNS(d.UpdatedAt), store.NormalOrdering(d.Ordering),
			boolInt(d.SequenceNumbers))
		return constraint(err, "destination")
	})
	return s.internal(err, "create destination")
}

// GetDestination finds one of the org's destinations, legacy ones included.
func (s *Store) GetDestination(ctx context.Context, orgID, id string) (store.Destination, error) {
	return s.getDestination(ctx, s.rdb, orgID, id)
}

func (s *Store) getDestination(ctx context.Context, q querier, orgID, id string) (store.Destination, error) {
	d, err := scanDestination(q.QueryRowContext(ctx,
		"SELECT "+destinationCols+" FROM destinations WHERE org_id = ? AND id = ?", orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Destination{}, notFound("destination")
	}
	return d, s.internal(err, "get destination")
}

// ListDestinations lists one page of the org's non-legacy destinations.
func (s *Store) ListDestinations(ctx context.Context, orgID string, f store.NameFilter, p store.Page) ([]store.Destination, bool, error) {
	base, args := nameFilter("SELECT "+destinationCols+" FROM destinations WHERE org_id = ? AND legacy = 0", []any{orgID}, f)
	query, args := pageQuery(base, args, p)
	rows, err := s.rdb.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, false, s.internal(err, "list destinations")
	}
	items, err := collectRows(rows, scanDestination)
	if err != nil {
		return nil, false, s.internal(err, "list destinations")
	}
	items, more := sqlcodec.PageResult(items, p)
	return items, more, nil
}

// UpdateDestination replaces a destination's fields (not its org, legacy
// mark or creation time).
func (s *Store) UpdateDestination(ctx context.Context, d store.Destination) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		return mustAffect(q.ExecContext(ctx, `UPDATE destinations SET name = ?, endpoint = ?, authorization = ?,
			log_format = ?, skip_ssl_verification = ?, updated_at = ?, ordering = ?, sequence_numbers = ? WHERE org_id = ? AND id = ?`,
			d.Name, d.Endpoint, d.Authorization, string(d.LogFormat), boolInt(d.SkipSSLVerification),
			sqlcodec.ToNS(d.UpdatedAt), store.NormalOrdering(d.Ordering), boolInt(d.SequenceNumbers), d.OrgID, d.ID))("destination")
	})
	return s.internal(err, "update destination")
}

// DeleteDestination deletes a destination no webhook refers to.
func (s *Store) DeleteDestination(ctx context.Context, orgID, id string) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		var n int
		if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM webhooks WHERE destination_id = ?", id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			// Checked before deleting so another org's ID stays NotFound below.
			var own int
			if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM destinations WHERE org_id = ? AND id = ?", orgID, id).Scan(&own); err != nil {
				return err
			}
			if own == 0 {
				return notFound("destination")
			}
			return apperr.New(apperr.Conflict, "destination is in use by %d webhook(s)", n)
		}
		return mustAffect(q.ExecContext(ctx, "DELETE FROM destinations WHERE org_id = ? AND id = ?", orgID, id))("destination")
	})
	return s.internal(err, "delete destination")
}
