package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

const developerCols = `id, portal_id, org_id, email, full_name, status, email_verified, password_hash,
	failed_logins, failed_since, locked_until, created_at, updated_at`

func scanDeveloper(sc scanner) (store.Developer, error) {
	var d store.Developer
	var failedSince, locked, created, updated int64
	err := sc.Scan(&d.ID, &d.PortalID, &d.OrgID, &d.Email, &d.FullName, &d.Status, &d.EmailVerified, &d.PasswordHash,
		&d.FailedLogins, &failedSince, &locked, &created, &updated)
	d.FailedSince = sqlcodec.FromNS(failedSince)
	d.LockedUntil = sqlcodec.FromNS(locked)
	d.CreatedAt = sqlcodec.FromNS(created)
	d.UpdatedAt = sqlcodec.FromNS(updated)
	return d, err
}

// CreateDeveloper stores an account; an email taken in the portal (in any
// case) is a Conflict, an unknown portal NotFound.
func (s *Store) CreateDeveloper(ctx context.Context, d store.Developer) error {
	return s.write(ctx, "create developer", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO developers (id, portal_id, org_id, email, email_key, full_name, status,
			email_verified, password_hash, failed_logins, failed_since, locked_until, created_at, updated_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)`,
			d.ID, d.PortalID, d.OrgID, d.Email, store.EmailKey(d.Email), d.FullName, d.Status, d.EmailVerified,
			d.PasswordHash, d.FailedLogins, sqlcodec.ToNS(d.FailedSince), sqlcodec.ToNS(d.LockedUntil), sqlcodec.ToNS(d.CreatedAt), sqlcodec.ToNS(d.UpdatedAt))
		return constraint(err, "developer")
	})
}

// GetDeveloper finds one of the portal's developers.
func (s *Store) GetDeveloper(ctx context.Context, portalID, id string) (store.Developer, error) {
	return getOne(s, ctx, "get developer", "developer",
		"SELECT "+developerCols+" FROM developers WHERE portal_id = $1 AND id = $2", scanDeveloper, portalID, id)
}

// GetDeveloperByEmail finds a developer by email, in any case.
func (s *Store) GetDeveloperByEmail(ctx context.Context, portalID, email string) (store.Developer, error) {
	return getOne(s, ctx, "get developer", "developer",
		"SELECT "+developerCols+" FROM developers WHERE portal_id = $1 AND email_key = $2", scanDeveloper, portalID, store.EmailKey(email))
}

// ListDevelopers lists one page of the portal's developers.
func (s *Store) ListDevelopers(ctx context.Context, portalID string, p store.Page) ([]store.Developer, bool, error) {
	a := args{portalID}
	query := pageQuery("SELECT "+developerCols+" FROM developers WHERE portal_id = $1", &a, p)
	return list(s, ctx, "list developers", query, a, p, scanDeveloper)
}

// UpdateDeveloper replaces an account's fields (not its portal, org or
// creation time); a new email taken by another developer is a Conflict.
func (s *Store) UpdateDeveloper(ctx context.Context, d store.Developer) error {
	return s.write(ctx, "update developer", func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE developers SET email = $1, email_key = $2, full_name = $3, status = $4,
			email_verified = $5, password_hash = $6, failed_logins = $7, failed_since = $8, locked_until = $9, updated_at = $10
			WHERE portal_id = $11 AND id = $12`,
			d.Email, store.EmailKey(d.Email), d.FullName, d.Status, d.EmailVerified, d.PasswordHash, d.FailedLogins,
			sqlcodec.ToNS(d.FailedSince), sqlcodec.ToNS(d.LockedUntil), sqlcodec.ToNS(d.UpdatedAt), d.PortalID, d.ID)
		return mustAffect(tag, constraint(err, "developer"))("developer")
	})
}

// RecordLoginFailure counts a failed login under the developer's row lock
// (SELECT ... FOR UPDATE), so failures reaching several replicas at once
// all count.
func (s *Store) RecordLoginFailure(ctx context.Context, portalID, id string, now time.Time, p store.LockoutPolicy) (store.Developer, error) {
	var d store.Developer
	err := s.write(ctx, "record login failure", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		d, err = scanDeveloper(tx.QueryRow(ctx, "SELECT "+developerCols+" FROM developers WHERE portal_id = $1 AND id = $2 FOR UPDATE",
			portalID, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("developer")
		}
		if err != nil {
			return err
		}
		p.CountFailure(&d, now)
		_, err = tx.Exec(ctx, `UPDATE developers SET failed_logins = $1, failed_since = $2, locked_until = $3
			WHERE portal_id = $4 AND id = $5`, d.FailedLogins, sqlcodec.ToNS(d.FailedSince), sqlcodec.ToNS(d.LockedUntil), portalID, id)
		return err
	})
	if err != nil {
		return store.Developer{}, err
	}
	return d, nil
}

// ClearLoginFailures resets the failure count and lock.
func (s *Store) ClearLoginFailures(ctx context.Context, portalID, id string) error {
	return s.write(ctx, "clear login failures", func(ctx context.Context, tx pgx.Tx) error {
		return mustAffect(tx.Exec(ctx, `UPDATE developers SET failed_logins = 0, failed_since = 0, locked_until = 0
			WHERE portal_id = $1 AND id = $2`, portalID, id))("developer")
	})
}

// DeleteDeveloper deletes an account and, by cascade, its tokens.
func (s *Store) DeleteDeveloper(ctx context.Context, portalID, id string) error {
	return s.write(ctx, "delete developer", func(ctx context.Context, tx pgx.Tx) error {
		return mustAffect(tx.Exec(ctx, "DELETE FROM developers WHERE portal_id = $1 AND id = $2", portalID, id))("developer")
	})
}

// CreateDeveloperToken stores a token; an unknown developer is NotFound, a
// reused hash a Conflict.
func (s *Store) CreateDeveloperToken(ctx context.Context, t store.DeveloperToken) error {
	return s.createToken(ctx, sqlcodec.DeveloperTokens, sqlcodec.DeveloperTokenRow(t))
}

// GetDeveloperToken finds a token by hash without using it up.
func (s *Store) GetDeveloperToken(ctx context.Context, hash []byte) (store.DeveloperToken, error) {
	r, err := s.getToken(ctx, sqlcodec.DeveloperTokens, hash)
	return r.DeveloperToken(), err
}

// ConsumeDeveloperToken deletes a token and returns it, in one statement,
// so of two concurrent uses exactly one gets it.
func (s *Store) ConsumeDeveloperToken(ctx context.Context, hash []byte) (store.DeveloperToken, error) {
	r, err := s.consumeToken(ctx, sqlcodec.DeveloperTokens, hash)
	return r.DeveloperToken(), err
}

// DeleteDeveloperTokens deletes a developer's tokens of one purpose (all
// purposes when purpose is empty).
func (s *Store) DeleteDeveloperTokens(ctx context.Context, developerID, purpose string) error {
	return s.deleteTokens(ctx, sqlcodec.DeveloperTokens, developerID, purpose)
}

// DeleteDeveloperSession deletes the tokens of one session (an empty one
// matches nothing) and says how many.
func (s *Store) DeleteDeveloperSession(ctx context.Context, sessionID string) (int, error) {
	return s.deleteSession(ctx, sqlcodec.DeveloperTokens, sessionID)
}

// DeleteExpiredDeveloperTokens deletes tokens expired at now (a zero
// expiry never expires) and says how many.
func (s *Store) DeleteExpiredDeveloperTokens(ctx context.Context, now time.Time) (int, error) {
	return s.deleteExpiredTokens(ctx, sqlcodec.DeveloperTokens, now)
}
