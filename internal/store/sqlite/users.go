package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

const userCols = `id, org_id, email, role, disabled, password_hash, failed_logins, failed_since, locked_until,
	created_at, updated_at`

func scanUser(sc interface{ Scan(...any) error }) (store.User, error) {
	var u store.User
	var role string
	var failedSince, locked, created, updated int64
	err := sc.Scan(&u.ID, &u.OrgID, &u.Email, &role, &u.Disabled, &u.PasswordHash, &u.FailedLogins,
		&failedSince, &locked, &created, &updated)
	u.Role = store.Role(role)
	u.FailedSince = sqlcodec.FromNS(failedSince)
	u.LockedUntil = sqlcodec.FromNS(locked)
	u.CreatedAt = sqlcodec.FromNS(created)
	u.UpdatedAt = sqlcodec.FromNS(updated)
	return u, err
}

// CreateUser stores an org user; a taken email (in any case, in any org)
// is a Conflict, an unknown org NotFound.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO users (id, org_id, email, email_key, role, disabled, password_hash,
			failed_logins, failed_since, locked_until, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
			u.ID, u.OrgID, u.Email, store.EmailKey(u.Email), string(u.Role), boolInt(u.Disabled), u.PasswordHash,
			u.FailedLogins, sqlcodec.ToNS(u.FailedSince), sqlcodec.ToNS(u.LockedUntil), sqlcodec.ToNS(u.CreatedAt), sqlcodec.ToNS(u.UpdatedAt))
		return constraint(err, "user")
	})
	return s.internal(err, "create user")
}

func (s *Store) getUser(ctx context.Context, where string, a ...any) (store.User, error) {
	u, err := scanUser(s.rdb.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE "+where, a...))
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, notFound("user")
	}
	return u, s.internal(err, "get user")
}

// GetUser finds one of the org's users.
func (s *Store) GetUser(ctx context.Context, orgID, id string) (store.User, error) {
	return s.getUser(ctx, "org_id = ? AND id = ?", orgID, id)
}

// GetUserByEmail finds a user of any org by email, in any case.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (store.User, error) {
	return s.getUser(ctx, "email_key = ?", store.EmailKey(email))
}

// ListUsers lists the org's users in ID order.
func (s *Store) ListUsers(ctx context.Context, orgID string) ([]store.User, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+userCols+" FROM users WHERE org_id = ? ORDER BY id", orgID)
	if err != nil {
		return nil, s.internal(err, "list users")
	}
	out, err := collectRows(rows, scanUser)
	return out, s.internal(err, "list users")
}

// UpdateUser replaces a user's fields; a new email taken by another user is
// a Conflict.
func (s *Store) UpdateUser(ctx context.Context, u store.User) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE users SET email = ?, email_key = ?, role = ?, disabled = ?, password_hash = ?,
			failed_logins = ?, failed_since = ?, locked_until = ?, updated_at = ? WHERE org_id = ? AND id = ?`,
			u.Email, store.EmailKey(u.Email), string(u.Role), boolInt(u.Disabled), u.PasswordHash, u.FailedLogins,
			sqlcodec.ToNS(u.FailedSince), sqlcodec.ToNS(u.LockedUntil), sqlcodec.ToNS(u.UpdatedAt), u.OrgID, u.ID)
		if err := mustAffect(res, constraint(err, "user"))("user"); err != nil || !u.Disabled {
			return err
		}
		_, err = revokeUser(ctx, q, u.ID)
		return err
	})
	return s.internal(err, "update user")
}

// DisableUser disables a user and, in the same transaction, deletes its
// sessions and the tokens it owns, which it returns.
func (s *Store) DisableUser(ctx context.Context, orgID, id string, now time.Time) ([]store.Token, error) {
	var revoked []store.Token
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		err := mustAffect(q.ExecContext(ctx, "UPDATE users SET disabled = 1, updated_at = ? WHERE org_id = ? AND id = ?",
			sqlcodec.ToNS(now), orgID, id))("user")
		if err != nil {
			return err
		}
		revoked, err = revokeUser(ctx, q, id)
		return err
	})
	if err != nil {
		return nil, s.internal(err, "disable user")
	}
	return revoked, nil
}

// revokeUser deletes a disabled user's sessions, its emailed and device
// tokens (re-enabled, it trusts no browser it had and follows no old
// link), and the API tokens it owns, and returns those in ID order.
func revokeUser(ctx context.Context, q querier, userID string) ([]store.Token, error) {
	rows, err := q.QueryContext(ctx, "DELETE FROM tokens WHERE owner_user_id = ? RETURNING "+tokenCols, userID)
	if err != nil {
		return nil, err
	}
	revoked, err := collectRows(rows, scanToken)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(revoked, func(a, b store.Token) int { return strings.Compare(a.ID, b.ID) })
	if _, err := q.ExecContext(ctx, "DELETE FROM user_sessions WHERE user_id = ?", userID); err != nil {
		return nil, err
	}
	if _, err := q.ExecContext(ctx, "DELETE FROM user_tokens WHERE user_id = ?", userID); err != nil {
		return nil, err
	}
	return revoked, nil
}

// RecordUserLoginFailure counts a failed log-in inside one write
// transaction, which holds the database's write lock from read to write.
func (s *Store) RecordUserLoginFailure(ctx context.Context, id string, now time.Time, p store.LockoutPolicy) (store.User, error) {
	var u store.User
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		var err error
		u, err = scanUser(q.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("user")
		}
		if err != nil {
			return err
		}
		p.CountUserFailure(&u, now)
		_, err = q.ExecContext(ctx, `UPDATE users SET failed_logins = ?, failed_since = ?, locked_until = ? WHERE id = ?`,
			u.FailedLogins, sqlcodec.ToNS(u.FailedSince), sqlcodec.ToNS(u.LockedUntil), id)
		return err
	})
	if err != nil {
		return store.User{}, s.internal(err, "record user login failure")
	}
	return u, nil
}

// ClearUserLoginFailures resets the failure count and lock.
func (s *Store) ClearUserLoginFailures(ctx context.Context, id string) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		return mustAffect(q.ExecContext(ctx, `UPDATE users SET failed_logins = 0, failed_since = 0, locked_until = 0
			WHERE id = ?`, id))("user")
	})
	return s.internal(err, "clear user login failures")
}

const userSessionCols = "hash, user_id, org_id, created_at, expires_at"

func scanUserSession(sc interface{ Scan(...any) error }) (store.UserSession, error) {
	var x store.UserSession
	var created, expires int64
	err := sc.Scan(&x.Hash, &x.UserID, &x.OrgID, &created, &expires)
	x.CreatedAt = sqlcodec.FromNS(created)
	x.ExpiresAt = sqlcodec.FromNS(expires)
	return x, err
}

// CreateUserSession stores a session; an unknown user is NotFound.
func (s *Store) CreateUserSession(ctx context.Context, x store.UserSession) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		_, err := q.ExecContext(ctx, "INSERT INTO user_sessions ("+userSessionCols+") VALUES (?,?,?,?,?)",
			x.Hash, x.UserID, x.OrgID, sqlcodec.ToNS(x.CreatedAt), sqlcodec.ToNS(x.ExpiresAt))
		return constraint(err, "user session")
	})
	return s.internal(err, "create user session")
}

// GetUserSession finds a session by the hash of its secret.
func (s *Store) GetUserSession(ctx context.Context, hash []byte) (store.UserSession, error) {
	x, err := scanUserSession(s.rdb.QueryRowContext(ctx, "SELECT "+userSessionCols+" FROM user_sessions WHERE hash = ?", hash))
	if errors.Is(err, sql.ErrNoRows) {
		return store.UserSession{}, notFound("user session")
	}
	return x, s.internal(err, "get user session")
}

// DeleteUserSession ends one session.
func (s *Store) DeleteUserSession(ctx context.Context, hash []byte) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		return mustAffect(q.ExecContext(ctx, "DELETE FROM user_sessions WHERE hash = ?", hash))("user session")
	})
	return s.internal(err, "delete user session")
}

// DeleteUserSessions ends every session of a user.
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		_, err := q.ExecContext(ctx, "DELETE FROM user_sessions WHERE user_id = ?", userID)
		return err
	})
	return s.internal(err, "delete user sessions")
}

// DeleteExpiredUserSessions deletes sessions expired at now.
func (s *Store) DeleteExpiredUserSessions(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		res, err := q.ExecContext(ctx, "DELETE FROM user_sessions WHERE expires_at <= ?", sqlcodec.ToNS(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, s.internal(err, "delete expired user sessions")
	}
	return int(n), nil
}
