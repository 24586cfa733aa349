package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// CreateOrg stores a new org; a taken name or ID is a Conflict.
func (s *Store) CreateOrg(ctx context.Context, o store.Org) error {
	return s.write(ctx, "create org", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3)", o.ID, o.Name, sqlcodec.ToNS(o.CreatedAt))
		return constraint(err, "org")
	})
}

const orgCols = "id, name, created_at"

func scanOrg(sc scanner) (store.Org, error) {
	var o store.Org
	var created int64
	err := sc.Scan(&o.ID, &o.Name, &created)
	o.CreatedAt = sqlcodec.FromNS(created)
	return o, err
}

// getOne reads one row; no row is NotFound(what).
func getOne[T any](s *Store, ctx context.Context, op, what, query string, scan func(scanner) (T, error), a ...any) (T, error) {
	var v T
	err := s.read(ctx, op, func(ctx context.Context, q querier) error {
		var err error
		v, err = scan(q.QueryRow(ctx, query, a...))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound(what)
		}
		return err
	})
	return v, err
}

// GetOrg finds an org by ID.
func (s *Store) GetOrg(ctx context.Context, id string) (store.Org, error) {
	return getOne(s, ctx, "get org", "org", "SELECT "+orgCols+" FROM orgs WHERE id = $1", scanOrg, id)
}

// GetOrgByName finds an org by its unique name.
func (s *Store) GetOrgByName(ctx context.Context, name string) (store.Org, error) {
	return getOne(s, ctx, "get org", "org", "SELECT "+orgCols+" FROM orgs WHERE name = $1", scanOrg, name)
}

// ListOrgs lists every org in ID (creation) order.
func (s *Store) ListOrgs(ctx context.Context) ([]store.Org, error) {
	out, _, err := list(s, ctx, "list orgs", "SELECT "+orgCols+" FROM orgs ORDER BY id", nil, store.Page{}, scanOrg)
	return out, err
}

// CreateToken stores an API token; a reused hash or ID is a Conflict, an
// unknown org NotFound. An owner is read under FOR SHARE: a DisableUser of
// the owner either committed before (the owner reads disabled: Conflict)
// or waits for this insert, and then deletes the new token with the rest.
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	return s.write(ctx, "create token", func(ctx context.Context, tx pgx.Tx) error {
		if t.OwnerUserID != "" {
			var disabled bool
			err := tx.QueryRow(ctx, "SELECT disabled FROM users WHERE org_id = $1 AND id = $2 FOR SHARE", t.OrgID, t.OwnerUserID).Scan(&disabled)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				return notFound("token owner")
			case err != nil:
				return err
			case disabled:
				return apperr.New(apperr.Conflict, "the token's owner is disabled")
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO tokens (id, org_id, name, role, hash, system, created_at, expires_at, owner_user_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			t.ID, t.OrgID, t.Name, string(t.Role), t.Hash, t.System, sqlcodec.ToNS(t.CreatedAt), sqlcodec.ToNS(t.ExpiresAt),
			nullable(t.OwnerUserID))
		return constraint(err, "token")
	})
}

const tokenCols = "id, org_id, name, role, hash, system, created_at, expires_at, owner_user_id"

func scanToken(sc scanner) (store.Token, error) {
	var t store.Token
	var role string
	var created, expires int64
	var owner *string
	err := sc.Scan(&t.ID, &t.OrgID, &t.Name, &role, &t.Hash, &t.System, &created, &expires, &owner)
	t.Role = store.Role(role)
	t.CreatedAt = sqlcodec.FromNS(created)
	t.ExpiresAt = sqlcodec.FromNS(expires)
	if owner != nil {
		t.OwnerUserID = *owner
	}
	return t, err
}

// GetTokenByHash finds a token by the hash of its secret.
func (s *Store) GetTokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	return getOne(s, ctx, "get token", "token", "SELECT "+tokenCols+" FROM tokens WHERE hash = $1", scanToken, hash)
}

// ListTokens lists an org's tokens in ID order.
func (s *Store) ListTokens(ctx context.Context, orgID string) ([]store.Token, error) {
	out, _, err := list(s, ctx, "list tokens", "SELECT "+tokenCols+" FROM tokens WHERE org_id = $1 ORDER BY id",
		args{orgID}, store.Page{}, scanToken)
	return out, err
}

// DeleteToken deletes one of the org's tokens.
func (s *Store) DeleteToken(ctx context.Context, orgID, id string) error {
	return s.write(ctx, "delete token", func(ctx context.Context, tx pgx.Tx) error {
		return mustAffect(tx.Exec(ctx, "DELETE FROM tokens WHERE org_id = $1 AND id = $2", orgID, id))("token")
	})
}
