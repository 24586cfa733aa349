package postgres

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

const userCols = `id, org_id, email, role, disabled, password_hash, failed_logins, failed_since, locked_until,
	created_at, updated_at`

func scanUser(sc scanner) (store.User, error) {
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
	return s.write(ctx, "create user", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO users (id, org_id, email, email_key, role, disabled, password_hash,
			failed_logins, failed_since, locked_until, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`,
			u.ID, u.OrgID, u.Email, store.EmailKey(u.Email), string(u.Role), u.Disabled, u.PasswordHash,
			u.FailedLogins, sqlcodec.ToNS(u.FailedSince), sqlcodec.ToNS(u.LockedUntil), sqlcodec.ToNS(u.CreatedAt), sqlcodec.ToNS(u.UpdatedAt))
		return constraint(err, "user")
	})
}

// GetUser finds one of the org's users.
func (s *Store) GetUser(ctx context.Context, orgID, id string) (store.User, error) {
	return getOne(s, ctx, "get user", "user", "SELECT "+userCols+" FROM users WHERE org_id = $1 AND id = $2", scanUser, orgID, id)
}

// GetUserByEmail finds a user of any org by email, in any case.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (store.User, error) {
	return getOne(s, ctx, "get user", "user", "SELECT "+userCols+" FROM users WHERE email_key = $1", scanUser, store.EmailKey(email))
}

// ListUsers lists the org's users in ID order.
func (s *Store) ListUsers(ctx context.Context, orgID string) ([]store.User, error) {
	out, _, err := list(s, ctx, "list users", "SELECT "+userCols+" FROM users WHERE org_id = $1 ORDER BY id",
		args{orgID}, store.Page{}, scanUser)
	return out, err
}

// UpdateUser replaces a user's fields; a new email taken by another user is
// a Conflict.
func (s *Store) UpdateUser(ctx context.Context, u store.User) error {
	return s.write(ctx, "update user", func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET email = $1, email_key = $2, role = $3, disabled = $4, password_hash = $5,
			failed_logins = $6, failed_since = $7, locked_until = $8, updated_at = $9 WHERE org_id = $10 AND id = $11`,
			u.Email, store.EmailKey(u.Email), string(u.Role), u.Disabled, u.PasswordHash, u.FailedLogins,
			sqlcodec.ToNS(u.FailedSince), sqlcodec.ToNS(u.LockedUntil), sqlcodec.ToNS(u.UpdatedAt), u.OrgID, u.ID)
		if err := mustAffect(tag, constraint(err, "user"))("user"); err != nil || !u.Disabled {
			return err
		}
		_, err = revokeUser(ctx, tx, u.ID)
		return err
	})
}

// DisableUser disables a user and, in the same transaction, deletes its
// sessions and the tokens it owns, which it returns. The UPDATE takes the
// user's row lock first: a CreateToken for the user (which reads it FOR
// SHARE) either committed before, and its token is deleted here (the
// DELETE's snapshot is taken after the lock), or waits and then finds the
// user disabled.
func (s *Store) DisableUser(ctx context.Context, orgID, id string, now time.Time) ([]store.Token, error) {
	var revoked []store.Token
	err := s.write(ctx, "disable user", func(ctx context.Context, tx pgx.Tx) error {
		err := mustAffect(tx.Exec(ctx, "UPDATE users SET disabled = true, updated_at = $1 WHERE org_id = $2 AND id = $3",
			sqlcodec.ToNS(now), orgID, id))("user")
		if err != nil {
			return err
		}
		revoked, err = revokeUser(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return revoked, nil
}

// revokeUser deletes a disabled user's sessions and the tokens it owns,
// and returns those tokens in ID order.
func revokeUser(ctx context.Context, tx pgx.Tx, userID string) ([]store.Token, error) {
	rows, err := tx.Query(ctx, "DELETE FROM tokens WHERE owner_user_id = $1 RETURNING "+tokenCols, userID)
	revoked, err := collect(rows, err, scanToken)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(revoked, func(a, b store.Token) int { return strings.Compare(a.ID, b.ID) })
	if _, err := tx.Exec(ctx, "DELETE FROM user_sessions WHERE user_id = $1", userID); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, "DELETE FROM user_tokens WHERE user_id = $1", userID); err != nil {
		return nil, err
	}
	return revoked, nil
}

// RecordUserLoginFailure counts a failed log-in under the user's row lock
// (SELECT ... FOR UPDATE), so failures reaching several replicas at once
// all count.
func (s *Store) RecordUserLoginFailure(ctx context.Context, id string, now time.Time, p store.LockoutPolicy) (store.User, error) {
	var u store.User
	err := s.write(ctx, "record user login failure", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRow(ctx, "SELECT "+userCols+" FROM users WHERE id = $1 FOR UPDATE", id))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("user")
		}
		if err != nil {
			return err
		}
		p.CountUserFailure(&u, now)
		_, err = tx.Exec(ctx, `UPDATE users SET failed_logins = $1, failed_since = $2, locked_until = $3 WHERE id = $4`,
			u.FailedLogins, sqlcodec.ToNS(u.FailedSince), sqlcodec.ToNS(u.LockedUntil), id)
		return err
	})
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}

// ClearUserLoginFailures resets the failure count and lock.
func (s *Store) ClearUserLoginFailures(ctx context.Context, id string) error {
	return s.write(ctx, "clear user login failures", func(ctx context.Context, tx pgx.Tx) error {
		return mustAffect(tx.Exec(ctx, `UPDATE users SET failed_logins = 0, failed_since = 0, locked_until = 0 WHERE id = $1`, id))("user")
	})
}

const userSessionCols = "hash, user_id, org_id, created_at, expires_at"

func scanUserSession(sc scanner) (store.UserSession, error) {
	var x store.UserSession
	var created, expires int64
	err := sc.Scan(&x.Hash, &x.UserID, &x.OrgID, &created, &expires)
	x.CreatedAt = sqlcodec.FromNS(created)
	x.ExpiresAt = sqlcodec.FromNS(expires)
	return x, err
}

// CreateUserSession stores a session; an unknown user is NotFound.
func (s *Store) CreateUserSession(ctx context.Context, x store.UserSession) error {
	return s.write(ctx, "create user session", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO user_sessions ("+userSessionCols+") VALUES ($1,$2,$3,$4,$5)",
			x.Hash, x.UserID, x.OrgID, sqlcodec.ToNS(x.CreatedAt), sqlcodec.ToNS(x.ExpiresAt))
		return constraint(err, "user session")
	})
}

// GetUserSession finds a session by the hash of its secret.
func (s *Store) GetUserSession(ctx context.Context, hash []byte) (store.UserSession, error) {
	return getOne(s, ctx, "get user session", "user session",
		"SELECT "+userSessionCols+" FROM user_sessions WHERE hash = $1", scanUserSession, hash)
}

// DeleteUserSession ends one session.
func (s *Store) DeleteUserSession(ctx context.Context, hash []byte) error {
	return s.write(ctx, "delete user session", func(ctx context.Context, tx pgx.Tx) error {
		return mustAffect(tx.Exec(ctx, "DELETE FROM user_sessions WHERE hash = $1", hash))("user session")
	})
}

// DeleteUserSessions ends every session of a user.
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) error {
	return s.write(ctx, "delete user sessions", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM user_sessions WHERE user_id = $1", userID)
		return err
	})
}

// DeleteExpiredUserSessions deletes sessions expired at now.
func (s *Store) DeleteExpiredUserSessions(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, "delete expired user sessions", func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM user_sessions WHERE expires_at <= $1", sqlcodec.ToNS(now))
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}
