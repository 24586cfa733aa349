package postgres

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

func scanUser(sc scanner) (store.User, error) { return sqlcodec.ScanUser(sc) }

func scanIdentity(sc scanner) (store.Identity, error) { return sqlcodec.ScanIdentity(sc) }

// CreateUser adds a user to its org for the identity of its email,
// storing ident first when no identity has the address. Two orgs adding
// one new address at once: ON CONFLICT waits for the other's identity and
// the next statement (read committed) sees it, so both share it.
func (s *Store) CreateUser(ctx context.Context, u store.User, ident store.Identity) (store.User, bool, error) {
	var created bool
	out := u
	err := s.write(ctx, "create user", func(ctx context.Context, tx pgx.Tx) error {
		out = u
		tag, err := tx.Exec(ctx, `INSERT INTO identities (`+sqlcodec.IdentityCols+`, email_key) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
			ON CONFLICT (email_key) DO NOTHING`,
			sqlcodec.IdentityArgs(ident, u.Email)...)
		if err != nil {
			return err
		}
		created = tag.RowsAffected() == 1
		if err := tx.QueryRow(ctx, "SELECT id FROM identities WHERE email_key = $1", store.EmailKey(u.Email)).
			Scan(&out.IdentityID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO users (id, org_id, identity_id, email, role, disabled, created_at, updated_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`, u.ID, u.OrgID, out.IdentityID, u.Email, string(u.Role), u.Disabled,
			sqlcodec.ToNS(u.CreatedAt), sqlcodec.ToNS(u.UpdatedAt))
		return constraint(err, "user")
	})
	if err != nil {
		return store.User{}, false, err
	}
	return out, created, nil
}

// GetUser finds one of the org's users.
func (s *Store) GetUser(ctx context.Context, orgID, id string) (store.User, error) {
	return getOne(s, ctx, "get user", "user", "SELECT "+sqlcodec.UserCols+sqlcodec.UserFrom+" WHERE u.org_id = $1 AND u.id = $2", scanUser, orgID, id)
}

// GetUserByEmail finds the org's user with an email, in any case.
func (s *Store) GetUserByEmail(ctx context.Context, orgID, email string) (store.User, error) {
	return getOne(s, ctx, "get user", "user", "SELECT "+sqlcodec.UserCols+sqlcodec.UserFrom+" WHERE u.org_id = $1 AND i.email_key = $2", scanUser,
		orgID, store.EmailKey(email))
}

// ListUsers lists the org's users in ID order.
func (s *Store) ListUsers(ctx context.Context, orgID string) ([]store.User, error) {
	out, _, err := list(s, ctx, "list users", "SELECT "+sqlcodec.UserCols+sqlcodec.UserFrom+" WHERE u.org_id = $1 ORDER BY u.id",
		args{orgID}, store.Page{}, scanUser)
	return out, err
}

// ListIdentityUsers lists an identity's users in every org, in ID order.
func (s *Store) ListIdentityUsers(ctx context.Context, identityID string) ([]store.User, error) {
	out, _, err := list(s, ctx, "list identity users", "SELECT "+sqlcodec.UserCols+sqlcodec.UserFrom+" WHERE u.identity_id = $1 ORDER BY u.id",
		args{identityID}, store.Page{}, scanUser)
	return out, err
}

// UpdateUser replaces a user's role and disabled state.
func (s *Store) UpdateUser(ctx context.Context, u store.User) error {
	return s.write(ctx, "update user", func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET role = $1, disabled = $2, updated_at = $3 WHERE org_id = $4 AND id = $5`,
			string(u.Role), u.Disabled, sqlcodec.ToNS(u.UpdatedAt), u.OrgID, u.ID)
		if err := mustAffect(tag, err)("user"); err != nil || !u.Disabled {
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

// GetIdentity finds an identity by id.
func (s *Store) GetIdentity(ctx context.Context, id string) (store.Identity, error) {
	return getOne(s, ctx, "get identity", "identity", "SELECT "+sqlcodec.IdentityCols+" FROM identities WHERE id = $1", scanIdentity, id)
}

// GetIdentityByEmail finds an identity by email, in any case.
func (s *Store) GetIdentityByEmail(ctx context.Context, email string) (store.Identity, error) {
	return getOne(s, ctx, "get identity", "identity", "SELECT "+sqlcodec.IdentityCols+" FROM identities WHERE email_key = $1", scanIdentity,
		store.EmailKey(email))
}

// SetIdentityPassword sets a password and ends the identity's sessions and
// user tokens in all its orgs, in one transaction.
func (s *Store) SetIdentityPassword(ctx context.Context, id, hash string, now time.Time) error {
	return s.write(ctx, "set identity password", func(ctx context.Context, tx pgx.Tx) error {
		err := mustAffect(tx.Exec(ctx, `UPDATE identities SET password_hash = $1, failed_logins = 0, failed_since = 0,
			locked_until = 0, password_org_id = '', updated_at = $2 WHERE id = $3`, hash, sqlcodec.ToNS(now), id))("identity")
		if err != nil {
			return err
		}
		const mine = "user_id IN (SELECT id FROM users WHERE identity_id = $1)"
		if _, err := tx.Exec(ctx, "DELETE FROM user_sessions WHERE "+mine, id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "DELETE FROM user_tokens WHERE "+mine, id)
		return err
	})
}

// RecordIdentityLoginFailure counts a failed log-in under the identity's
// row lock (SELECT ... FOR UPDATE), so failures reaching several replicas
// at once all count.
func (s *Store) RecordIdentityLoginFailure(ctx context.Context, id string, now time.Time, p store.LockoutPolicy) (store.Identity, error) {
	var x store.Identity
	err := s.write(ctx, "record identity login failure", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		x, err = scanIdentity(tx.QueryRow(ctx, "SELECT "+sqlcodec.IdentityCols+" FROM identities WHERE id = $1 FOR UPDATE", id))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("identity")
		}
		if err != nil {
			return err
		}
		p.CountIdentityFailure(&x, now)
		_, err = tx.Exec(ctx, `UPDATE identities SET failed_logins = $1, failed_since = $2, locked_until = $3 WHERE id = $4`,
			x.FailedLogins, sqlcodec.ToNS(x.FailedSince), sqlcodec.ToNS(x.LockedUntil), id)
		return err
	})
	if err != nil {
		return store.Identity{}, err
	}
	return x, nil
}

// ClearIdentityLoginFailures resets the failure count and lock.
func (s *Store) ClearIdentityLoginFailures(ctx context.Context, id string) error {
	return s.write(ctx, "clear identity login failures", func(ctx context.Context, tx pgx.Tx) error {
		return mustAffect(tx.Exec(ctx, `UPDATE identities SET failed_logins = 0, failed_since = 0, locked_until = 0 WHERE id = $1`, id))("identity")
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
		return insertUserSession(ctx, tx, x)
	})
}

func insertUserSession(ctx context.Context, tx pgx.Tx, x store.UserSession) error {
	_, err := tx.Exec(ctx, "INSERT INTO user_sessions ("+userSessionCols+") VALUES ($1,$2,$3,$4,$5)",
		x.Hash, x.UserID, x.OrgID, sqlcodec.ToNS(x.CreatedAt), sqlcodec.ToNS(x.ExpiresAt))
	return constraint(err, "user session")
}

// CreateLoginGrant stores g's sessions and tokens while the identity's
// hash is still g.PasswordHash. The share lock on the identity's row
// orders it against SetIdentityPassword, whose UPDATE takes the row first:
// a grant that waited sees the new hash and fails; one that locked first
// commits before the change, whose DELETEs then end it.
func (s *Store) CreateLoginGrant(ctx context.Context, g store.LoginGrant) error {
	return s.write(ctx, "create login grant", func(ctx context.Context, tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, "SELECT 1 FROM identities WHERE id = $1 AND password_hash = $2 FOR SHARE", g.IdentityID, g.PasswordHash).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.Conflict, "the password changed")
		} else if err != nil {
			return err
		}
		for _, x := range g.Sessions {
			if err := insertUserSession(ctx, tx, x); err != nil {
				return err
			}
		}
		for _, t := range g.Tokens {
			if err := insertToken(ctx, tx, sqlcodec.UserTokens, sqlcodec.UserTokenRow(t)); err != nil {
				return err
			}
		}
		return nil
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
