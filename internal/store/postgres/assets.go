package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// PutPortalAsset creates or replaces one asset of the portal.
func (s *Store) PutPortalAsset(ctx context.Context, a store.PortalAsset) error {
	return s.write(ctx, "put asset", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO portal_assets (portal_id, kind, content_type, data, digest, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (portal_id, kind) DO UPDATE SET content_type = excluded.content_type, data = excluded.data,
				digest = excluded.digest, updated_at = excluded.updated_at`,
			a.PortalID, a.Kind, a.ContentType, a.Data, a.Digest, sqlcodec.ToNS(a.UpdatedAt))
		return constraint(err, "portal")
	})
}

// GetPortalAsset reads one asset of the portal.
func (s *Store) GetPortalAsset(ctx context.Context, portalID, kind string) (store.PortalAsset, error) {
	return getOne(s, ctx, "get asset", kind,
		"SELECT content_type, data, digest, updated_at FROM portal_assets WHERE portal_id = $1 AND kind = $2",
		func(sc scanner) (store.PortalAsset, error) {
			a := store.PortalAsset{PortalID: portalID, Kind: kind}
			var updated int64
			err := sc.Scan(&a.ContentType, &a.Data, &a.Digest, &updated)
			a.UpdatedAt = sqlcodec.FromNS(updated)
			return a, err
		}, portalID, kind)
}

// PortalAssetDigests returns each asset's digest by kind.
func (s *Store) PortalAssetDigests(ctx context.Context, portalID string) (map[string]string, error) {
	type row struct{ kind, digest string }
	var rows []row
	err := s.read(ctx, "asset digests", func(ctx context.Context, q querier) error {
		var err error
		r, qerr := q.Query(ctx, "SELECT kind, digest FROM portal_assets WHERE portal_id = $1", portalID)
		rows, err = collect(r, qerr, func(sc scanner) (row, error) {
			var x row
			return x, sc.Scan(&x.kind, &x.digest)
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(rows))
	for _, x := range rows {
		out[x.kind] = x.digest
	}
	return out, nil
}
