package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// CreateOrg stores a new org; a taken name or ID is a Conflict.
func (s *Store) CreateOrg(ctx context.Context, o store.Org) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		_, err := q.ExecContext(ctx, "INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)",
			o.ID, o.Name, sqlcodec.ToNS(o.CreatedAt))
		return constraint(err, "org")
	})
	return s.internal(err, "create org")
}

const orgCols = "id, name, created_at"

func scanOrg(sc interface{ Scan(...any) error }) (store.Org, error) {
	var o store.Org
	var created int64
	err := sc.Scan(&o.ID, &o.Name, &created)
	o.CreatedAt = sqlcodec.FromNS(created)
	return o, err
}

func (s *Store) getOrg(ctx context.Context, where string, arg any) (store.Org, error) {
	o, err := scanOrg(s.rdb.QueryRowContext(ctx, "SELECT "+orgCols+" FROM orgs WHERE "+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Org{}, notFound("org")
	}
	return o, s.internal(err, "get org")
}

// GetOrg finds an org by ID.
func (s *Store) GetOrg(ctx context.Context, id string) (store.Org, error) {
	return s.getOrg(ctx, "id = ?", id)
}

// GetOrgByName finds an org by its unique name.
func (s *Store) GetOrgByName(ctx context.Context, name string) (store.Org, error) {
	return s.getOrg(ctx, "name = ?", name)
}

// ListOrgs lists every org in ID (creation) order.
func (s *Store) ListOrgs(ctx context.Context) ([]store.Org, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+orgCols+" FROM orgs ORDER BY id")
	if err != nil {
		return nil, s.internal(err, "list orgs")
	}
	out, err := collectRows(rows, scanOrg)
	return out, s.internal(err, "list orgs")
}

// CreateToken stores an API token; a reused hash or ID is a Conflict, an
// unknown org NotFound. An owner is checked in the same write transaction
// (SQLite has one writer at a time), so it cannot be disabled in between.
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		if t.OwnerUserID != "" {
			var disabled bool
			err := q.QueryRowContext(ctx, "SELECT disabled FROM users WHERE org_id = ? AND id = ?", t.OrgID, t.OwnerUserID).Scan(&disabled)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				return notFound("token owner")
			case err != nil:
				return err
			case disabled:
				return apperr.New(apperr.Conflict, "the token's owner is disabled")
			}
		}
		_, err := q.ExecContext(ctx, `INSERT INTO tokens (id, org_id, name, role, hash, system, created_at, expires_at, owner_user_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.OrgID, t.Name, string(t.Role), t.Hash, boolInt(t.System), sqlcodec.ToNS(t.CreatedAt), sqlcodec.ToNS(t.ExpiresAt),
			nullable(t.OwnerUserID))
		return constraint(err, "token")
	})
	return s.internal(err, "create token")
}

const tokenCols = "id, org_id, name, role, hash, system, created_at, expires_at, owner_user_id"

func scanToken(sc interface{ Scan(...any) error }) (store.Token, error) {
	var t store.Token
	var role string
	var created, expires int64
	var owner sql.NullString
	err := sc.Scan(&t.ID, &t.OrgID, &t.Name, &role, &t.Hash, &t.System, &created, &expires, &owner)
	t.Role = store.Role(role)
	t.CreatedAt = sqlcodec.FromNS(created)
	t.ExpiresAt = sqlcodec.FromNS(expires)
	t.OwnerUserID = owner.String
	return t, err
}

// GetTokenByHash finds a token by the hash of its secret.
func (s *Store) GetTokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	t, err := scanToken(s.tokenByHash.QueryRowContext(ctx, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, notFound("token")
	}
	return t, s.internal(err, "get token")
}

// ListTokens lists an org's tokens in ID order.
func (s *Store) ListTokens(ctx context.Context, orgID string) ([]store.Token, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+tokenCols+" FROM tokens WHERE org_id = ? ORDER BY id", orgID)
	if err != nil {
		return nil, s.internal(err, "list tokens")
	}
	out, err := collectRows(rows, scanToken)
	return out, s.internal(err, "list tokens")
}

// DeleteToken deletes one of the org's tokens.
func (s *Store) DeleteToken(ctx context.Context, orgID, id string) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		return mustAffect(q.ExecContext(ctx, "DELETE FROM tokens WHERE org_id = ? AND id = ?", orgID, id))("token")
	})
	return s.internal(err, "delete token")
}

// collectRows scans every row and closes rows.
func collectRows[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// mustAffect turns "no row changed" into NotFound.
func mustAffect(res sql.Result, err error) func(what string) error {
	return func(what string) error {
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return notFound(what)
		}
		return nil
	}
}
