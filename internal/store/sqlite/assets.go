package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// PutPortalAsset creates or replaces one asset of the portal.
func (s *Store) PutPortalAsset(ctx context.Context, a store.PortalAsset) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO portal_assets (portal_id, kind, content_type, data, digest, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (portal_id, kind) DO UPDATE SET content_type = excluded.content_type, data = excluded.data,
				digest = excluded.digest, updated_at = excluded.updated_at`,
			a.PortalID, a.Kind, a.ContentType, a.Data, a.Digest, sqlcodec.ToNS(a.UpdatedAt))
		return constraint(err, "portal")
	})
	return s.internal(err, "put asset")
}

// GetPortalAsset reads one asset of the portal.
func (s *Store) GetPortalAsset(ctx context.Context, portalID, kind string) (store.PortalAsset, error) {
	a := store.PortalAsset{PortalID: portalID, Kind: kind}
	var updated int64
	err := s.rdb.QueryRowContext(ctx, "SELECT content_type, data, digest, updated_at FROM portal_assets WHERE portal_id = ? AND kind = ?",
		portalID, kind).Scan(&a.ContentType, &a.Data, &a.Digest, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return store.PortalAsset{}, notFound(kind)
	}
	if err != nil {
		return store.PortalAsset{}, s.internal(err, "get asset")
	}
	a.UpdatedAt = sqlcodec.FromNS(updated)
	return a, nil
}

// PortalAssetDigests returns each asset's digest by kind.
func (s *Store) PortalAssetDigests(ctx context.Context, portalID string) (map[string]string, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT kind, digest FROM portal_assets WHERE portal_id = ?", portalID)
	if err != nil {
		return nil, s.internal(err, "asset digests")
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var kind, digest string
		if err := rows.Scan(&kind, &digest); err != nil {
			return nil, s.internal(err, "asset digests")
		}
		out[kind] = digest
	}
	return out, s.internal(rows.Err(), "asset digests")
}
