package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// CreateUser adds a user to its org for the identity of its email,
// storing ident first when no identity has the address. users.email_key
// gets the user's id (see 0014_identities.sql).
func (s *Store) CreateUser(ctx context.Context, u store.User, ident store.Identity) (store.User, bool, error) {
	var created bool
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		res, err := q.ExecContext(ctx, `INSERT INTO identities (`+sqlcodec.IdentityCols+`, email_key) VALUES (?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT (email_key) DO NOTHING`,
			sqlcodec.IdentityArgs(ident, u.Email)...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		created = n == 1
		if err := q.QueryRowContext(ctx, "SELECT id FROM identities WHERE email_key = ?", store.EmailKey(u.Email)).
			Scan(&u.IdentityID); err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, `INSERT INTO users (id, org_id, identity_id, email, email_key, role, disabled, created_at, updated_at)
			VALUES (?,?,?,?,?,?,?,?,?)`, u.ID, u.OrgID, u.IdentityID, u.Email, u.ID, string(u.Role), boolInt(u.Disabled),
			sqlcodec.ToNS(u.CreatedAt), sqlcodec.ToNS(u.UpdatedAt))
		return constraint(err, "user")
	})
	if err != nil {
		return store.User{}, false, s.internal(err, "create user")
	}
	return u, created, nil
}

func (s *Store) getUser(ctx context.Context, where string, a ...any) (store.User, error) {
	u, err := sqlcodec.ScanUser(s.rdb.QueryRowContext(ctx, "SELECT "+sqlcodec.UserCols+sqlcodec.UserFrom+" WHERE "+where, a...))
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, notFound("user")
	}
	return u, s.internal(err, "get user")
}

// GetUser finds one of the org's users.
func (s *Store) GetUser(ctx context.Context, orgID, id string) (store.User, error) {
	return s.getUser(ctx, "u.org_id = ? AND u.id = ?", orgID, id)
}

// GetUserByEmail finds the org's user with an email, in any case.
func (s *Store) GetUserByEmail(ctx context.Context, orgID, email string) (store.User, error) {
	return s.getUser(ctx, "u.org_id = ? AND i.email_key = ?", orgID, store.EmailKey(email))
}

// ListUsers lists the org's users in ID order.
func (s *Store) ListUsers(ctx context.Context, orgID string) ([]store.User, error) {
	return s.listUsers(ctx, "u.org_id = ?", orgID)
}

// ListIdentityUsers lists an identity's users in every org, in ID order.
func (s *Store) ListIdentityUsers(ctx context.Context, identityID string) ([]store.User, error) {
	return s.listUsers(ctx, "u.identity_id = ?", identityID)
}

func (s *Store) listUsers(ctx context.Context, where string, a ...any) ([]store.User, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+sqlcodec.UserCols+sqlcodec.UserFrom+" WHERE "+where+" ORDER BY u.id", a...)
	if err != nil {
		return nil, s.internal(err, "list users")
	}
	out, err := collectRows(rows, sqlcodec.ScanUser)
	return out, s.internal(err, "list users")
}

// UpdateUser replaces a user's role and disabled state.
func (s *Store) UpdateUser(ctx context.Context, u store.User) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE users SET role = ?, disabled = ?, updated_at = ? WHERE org_id = ? AND id = ?`,
			string(u.Role), boolInt(u.Disabled), sqlcodec.ToNS(u.UpdatedAt), u.OrgID, u.ID)
		if err := mustAffect(res, err)("user"); err != nil || !u.Disabled {
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

func (s *Store) getIdentity(ctx context.Context, where string, a ...any) (store.Identity, error) {
	x, err := sqlcodec.ScanIdentity(s.rdb.QueryRowContext(ctx, "SELECT "+sqlcodec.IdentityCols+" FROM identities WHERE "+where, a...))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Identity{}, notFound("identity")
	}
	return x, s.internal(err, "get identity")
}

// GetIdentity finds an identity by id.
func (s *Store) GetIdentity(ctx context.Context, id string) (store.Identity, error) {
	return s.getIdentity(ctx, "id = ?", id)
}

// GetIdentityByEmail finds an identity by email, in any case.
func (s *Store) GetIdentityByEmail(ctx context.Context, email string) (store.Identity, error) {
	return s.getIdentity(ctx, "email_key = ?", store.EmailKey(email))
}

// SetIdentityPassword sets a password and ends the identity's sessions and
// user tokens in all its orgs, in one transaction.
func (s *Store) SetIdentityPassword(ctx context.Context, id, hash string, now time.Time) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		err := mustAffect(q.ExecContext(ctx, `UPDATE identities SET password_hash = ?, failed_logins = 0, failed_since = 0,
			locked_until = 0, password_org_id = '', updated_at = ? WHERE id = ?`, hash, sqlcodec.ToNS(now), id))("identity")
		if err != nil {
			return err
		}
		const mine = "user_id IN (SELECT id FROM users WHERE identity_id = ?)"
		if _, err := q.ExecContext(ctx, "DELETE FROM user_sessions WHERE "+mine, id); err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, "DELETE FROM user_tokens WHERE "+mine, id)
		return err
	})
	return s.internal(err, "set identity password")
}

// RecordIdentityLoginFailure counts a failed log-in inside one write
// transaction, which holds the database's write lock from read to write.
func (s *Store) RecordIdentityLoginFailure(ctx context.Context, id string, now time.Time, p store.LockoutPolicy) (store.Identity, error) {
	var x store.Identity
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		var err error
		x, err = sqlcodec.ScanIdentity(q.QueryRowContext(ctx, "SELECT "+sqlcodec.IdentityCols+" FROM identities WHERE id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("identity")
		}
		if err != nil {
			return err
		}
		p.CountIdentityFailure(&x, now)
		_, err = q.ExecContext(ctx, `UPDATE identities SET failed_logins = ?, failed_since = ?, locked_until = ? WHERE id = ?`,
			x.FailedLogins, sqlcodec.ToNS(x.FailedSince), sqlcodec.ToNS(x.LockedUntil), id)
		return err
	})
	if err != nil {
		return store.Identity{}, s.internal(err, "record identity login failure")
	}
	return x, nil
}

// ClearIdentityLoginFailures resets the failure count and lock.
func (s *Store) ClearIdentityLoginFailures(ctx context.Context, id string) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		return mustAffect(q.ExecContext(ctx, `UPDATE identities SET failed_logins = 0, failed_since = 0, locked_until = 0
			WHERE id = ?`, id))("identity")
	})
	return s.internal(err, "clear identity login failures")
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
		return insertUserSession(ctx, q, x)
	})
	return s.internal(err, "create user session")
}

func insertUserSession(ctx context.Context, q querier, x store.UserSession) error {
	_, err := q.ExecContext(ctx, "INSERT INTO user_sessions ("+userSessionCols+") VALUES (?,?,?,?,?)",
		x.Hash, x.UserID, x.OrgID, sqlcodec.ToNS(x.CreatedAt), sqlcodec.ToNS(x.ExpiresAt))
	return constraint(err, "user session")
}

// CreateLoginGrant stores g's sessions and tokens while the identity's
// hash is still g.PasswordHash; the writer's one transaction at a time
// orders it before or after a SetIdentityPassword.
func (s *Store) CreateLoginGrant(ctx context.Context, g store.LoginGrant) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		var one int
		err := q.QueryRowContext(ctx, "SELECT 1 FROM identities WHERE id = ? AND password_hash = ?", g.IdentityID, g.PasswordHash).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.Conflict, "the password changed")
		} else if err != nil {
			return err
		}
		for _, x := range g.Sessions {
			if err := insertUserSession(ctx, q, x); err != nil {
				return err
			}
		}
		for _, t := range g.Tokens {
			if err := insertToken(ctx, q, sqlcodec.UserTokens, sqlcodec.UserTokenRow(t)); err != nil {
				return err
			}
		}
		return nil
	})
	return s.internal(err, "create login grant")
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
