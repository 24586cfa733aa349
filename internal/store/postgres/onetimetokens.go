package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// tokenTable is a table of one-time tokens kept only as hashes, for
// someone (owner) within a scope: developers' tokens in a portal and org
// users' set-password links in an org have one shape and one set of rules.
type tokenTable struct {
	table, owner, scope string // table and column names
	what                string // names the token in errors
	// zeroNeverExpires: a zero expiry is kept by DeleteExpired.
	zeroNeverExpires bool
}

var (
	developerTokens = tokenTable{table: "developer_tokens", owner: "developer_id", scope: "portal_id",
		what: "developer token", zeroNeverExpires: true}
	userTokens = tokenTable{table: "user_tokens", owner: "user_id", scope: "org_id", what: "user token"}
)

// tokenRow is one row of a tokenTable.
type tokenRow struct {
	hash                  []byte
	owner, scope, purpose string
	created, expires      time.Time
}

func (tt tokenTable) cols() string {
	return "hash, " + tt.owner + ", " + tt.scope + ", purpose, created_at, expires_at"
}

func scanTokenRow(sc scanner) (tokenRow, error) {
	var r tokenRow
	var created, expires int64
	err := sc.Scan(&r.hash, &r.owner, &r.scope, &r.purpose, &created, &expires)
	r.created, r.expires = sqlcodec.FromNS(created), sqlcodec.FromNS(expires)
	return r, err
}

// createToken stores r; an unknown owner is NotFound, a reused hash a
// Conflict.
func (s *Store) createToken(ctx context.Context, tt tokenTable, r tokenRow) error {
	return s.write(ctx, "create "+tt.what, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO "+tt.table+" ("+tt.cols()+") VALUES ($1,$2,$3,$4,$5,$6)",
			r.hash, r.owner, r.scope, r.purpose, sqlcodec.ToNS(r.created), sqlcodec.ToNS(r.expires))
		return constraint(err, tt.what)
	})
}

// getToken finds a token by hash without using it up.
func (s *Store) getToken(ctx context.Context, tt tokenTable, hash []byte) (tokenRow, error) {
	return getOne(s, ctx, "get "+tt.what, tt.what, "SELECT "+tt.cols()+" FROM "+tt.table+" WHERE hash = $1", scanTokenRow, hash)
}

// consumeToken deletes a token and returns it, in one statement, so of
// two concurrent uses exactly one gets it.
func (s *Store) consumeToken(ctx context.Context, tt tokenTable, hash []byte) (tokenRow, error) {
	var r tokenRow
	err := s.write(ctx, "consume "+tt.what, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		r, err = scanTokenRow(tx.QueryRow(ctx, "DELETE FROM "+tt.table+" WHERE hash = $1 RETURNING "+tt.cols(), hash))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound(tt.what)
		}
		return err
	})
	if err != nil {
		return tokenRow{}, err
	}
	return r, nil
}

// deleteTokens deletes owner's tokens of one purpose (all purposes when
// purpose is empty).
func (s *Store) deleteTokens(ctx context.Context, tt tokenTable, owner, purpose string) error {
	return s.write(ctx, "delete "+tt.what+"s", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM "+tt.table+" WHERE "+tt.owner+" = $1 AND ($2 = '' OR purpose = $2)", owner, purpose)
		return err
	})
}

// deleteExpiredTokens deletes the tokens expired at now and says how many.
func (s *Store) deleteExpiredTokens(ctx context.Context, tt tokenTable, now time.Time) (int, error) {
	cond := "expires_at <= $1"
	if tt.zeroNeverExpires {
		cond = "expires_at <> 0 AND " + cond
	}
	var n int64
	err := s.write(ctx, "delete expired "+tt.what+"s", func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM "+tt.table+" WHERE "+cond, sqlcodec.ToNS(now))
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}

func devTokenRow(t store.DeveloperToken) tokenRow {
	return tokenRow{hash: t.Hash, owner: t.DeveloperID, scope: t.PortalID, purpose: t.Purpose, created: t.CreatedAt, expires: t.ExpiresAt}
}

func (r tokenRow) developerToken() store.DeveloperToken {
	return store.DeveloperToken{Hash: r.hash, DeveloperID: r.owner, PortalID: r.scope, Purpose: r.purpose, CreatedAt: r.created, ExpiresAt: r.expires}
}

func userTokenRow(t store.UserToken) tokenRow {
	return tokenRow{hash: t.Hash, owner: t.UserID, scope: t.OrgID, purpose: t.Purpose, created: t.CreatedAt, expires: t.ExpiresAt}
}

func (r tokenRow) userToken() store.UserToken {
	return store.UserToken{Hash: r.hash, UserID: r.owner, OrgID: r.scope, Purpose: r.purpose, CreatedAt: r.created, ExpiresAt: r.expires}
}
