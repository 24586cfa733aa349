package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

const developerCols = `id, portal_id, org_id, email, full_name, status, email_verified, password_hash,
	failed_logins, failed_since, locked_until, created_at, updated_at`

func scanDeveloper(sc interface{ Scan(...any) error }) (store.Developer, error) {
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
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO developers (id, portal_id, org_id, email, email_key, full_name, status,
			email_verified, password_hash, failed_logins, failed_since, locked_until, created_at, updated_at)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			d.ID, d.PortalID, d.OrgID, d.Email, store.EmailKey(d.Email), d.FullName, d.Status, boolInt(d.EmailVerified),
			d.PasswordHash, d.FailedLogins, sqlcodec.ToNS(d.FailedSince), sqlcodec.ToNS(d.LockedUntil), sqlcodec.ToNS(d.CreatedAt), sqlcodec.ToNS(d.UpdatedAt))
		return constraint(err, "developer")
	})
	return s.internal(err, "create developer")
}

func (s *Store) getDeveloper(ctx context.Context, where string, args ...any) (store.Developer, error) {
	d, err := scanDeveloper(s.rdb.QueryRowContext(ctx, "SELECT "+developerCols+" FROM developers WHERE "+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Developer{}, notFound("developer")
	}
	return d, s.internal(err, "get developer")
}

// GetDeveloper finds one of the portal's developers.
func (s *Store) GetDeveloper(ctx context.Context, portalID, id string) (store.Developer, error) {
	return s.getDeveloper(ctx, "portal_id = ? AND id = ?", portalID, id)
}

// GetDeveloperByEmail finds a developer by email, in any case.
func (s *Store) GetDeveloperByEmail(ctx context.Context, portalID, email string) (store.Developer, error) {
	return s.getDeveloper(ctx, "portal_id = ? AND email_key = ?", portalID, store.EmailKey(email))
}

// ListDevelopers lists one page of the portal's developers.
func (s *Store) ListDevelopers(ctx context.Context, portalID string, p store.Page) ([]store.Developer, bool, error) {
	query, args := pageQuery("SELECT "+developerCols+" FROM developers WHERE portal_id = ?", []any{portalID}, p)
	rows, err := s.rdb.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, false, s.internal(err, "list developers")
	}
	items, err := collectRows(rows, scanDeveloper)
	if err != nil {
		return nil, false, s.internal(err, "list developers")
	}
	items, more := sqlcodec.PageResult(items, p)
	return items, more, nil
}

// UpdateDeveloper replaces an account's fields (not its portal, org or
// creation time); a new email taken by another developer is a Conflict.
func (s *Store) UpdateDeveloper(ctx context.Context, d store.Developer) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE developers SET email = ?, email_key = ?, full_name = ?, status = ?,
			email_verified = ?, password_hash = ?, failed_logins = ?, failed_since = ?, locked_until = ?, updated_at = ?
			WHERE portal_id = ? AND id = ?`,
			d.Email, store.EmailKey(d.Email), d.FullName, d.Status, boolInt(d.EmailVerified), d.PasswordHash, d.FailedLogins,
			sqlcodec.ToNS(d.FailedSince), sqlcodec.ToNS(d.LockedUntil), sqlcodec.ToNS(d.UpdatedAt), d.PortalID, d.ID)
		return mustAffect(res, constraint(err, "developer"))("developer")
	})
	return s.internal(err, "update developer")
}

// DeleteDeveloper deletes an account and, by cascade, its tokens.
func (s *Store) DeleteDeveloper(ctx context.Context, portalID, id string) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		return mustAffect(q.ExecContext(ctx, "DELETE FROM developers WHERE portal_id = ? AND id = ?", portalID, id))("developer")
	})
	return s.internal(err, "delete developer")
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

// RecordLoginFailure counts a failed login inside one write transaction,
// which holds the database's write lock from read to write.
func (s *Store) RecordLoginFailure(ctx context.Context, portalID, id string, now time.Time, p store.LockoutPolicy) (store.Developer, error) {
	var d store.Developer
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		var err error
		d, err = scanDeveloper(q.QueryRowContext(ctx, "SELECT "+developerCols+" FROM developers WHERE portal_id = ? AND id = ?", portalID, id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("developer")
		}
		if err != nil {
			return err
		}
		p.CountFailure(&d, now)
		_, err = q.ExecContext(ctx, `UPDATE developers SET failed_logins = ?, failed_since = ?, locked_until = ?
			WHERE portal_id = ? AND id = ?`, d.FailedLogins, sqlcodec.ToNS(d.FailedSince), sqlcodec.ToNS(d.LockedUntil), portalID, id)
		return err
	})
	if err != nil {
		return store.Developer{}, s.internal(err, "record login failure")
	}
	return d, nil
}

// ClearLoginFailures resets the failure count and lock.
func (s *Store) ClearLoginFailures(ctx context.Context, portalID, id string) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		return mustAffect(q.ExecContext(ctx, `UPDATE developers SET failed_logins = 0, failed_since = 0, locked_until = 0
			WHERE portal_id = ? AND id = ?`, portalID, id))("developer")
	})
	return s.internal(err, "clear login failures")
}
