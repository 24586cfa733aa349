package store

import (
	"context"
	"time"
)

// User is an org user: a person who logs in to the console with an email
// and password. Emails are unique across all orgs (compared
// case-insensitively), since the log-in form asks for no org.
type User struct {
	ID           string
	OrgID        string
	Email        string
	Role         Role // as for tokens; RoleProducer is refused by callers
	Disabled     bool
	PasswordHash string // argon2id, PHC string; empty until set
	FailedLogins int
	FailedSince  time.Time // start of the current failure window
	LockedUntil  time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// UserSession is a console session; only the SHA-256 of its secret is kept,
// so a copy of the database opens no session.
type UserSession struct {
	Hash      []byte
	UserID    string
	OrgID     string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Users keeps org users and their console sessions.
type Users interface {
	CreateUser(ctx context.Context, u User) error // Conflict on a taken email; NotFound for an unknown org
	GetUser(ctx context.Context, orgID, id string) (User, error)
	GetUserByEmail(ctx context.Context, email string) (User, error) // any org, any case
	ListUsers(ctx context.Context, orgID string) ([]User, error)    // by ID
	// UpdateUser replaces email, role, disabled, password hash and the
	// failure fields (not the org or creation time). A user left disabled
	// loses its sessions and the API tokens it owns in the same
	// transaction, as with DisableUser.
	UpdateUser(ctx context.Context, u User) error
	// DisableUser disables a user of the org at now and, in the same
	// transaction, ends its console sessions and deletes the API tokens it
	// owns (Token.OwnerUserID), which it returns in ID order so the caller
	// can audit each revocation. NotFound for no such user in the org.
	// Disabling a disabled user revokes whatever it still owns (nothing,
	// normally) and succeeds.
	DisableUser(ctx context.Context, orgID, id string, now time.Time) ([]Token, error)
	// RecordUserLoginFailure counts one failed log-in at now under p
	// (LockoutPolicy.CountUserFailure) atomically, so failures reaching
	// several replicas at once all count, and returns the user after it.
	RecordUserLoginFailure(ctx context.Context, id string, now time.Time, p LockoutPolicy) (User, error)
	// ClearUserLoginFailures resets the failure count and lock.
	ClearUserLoginFailures(ctx context.Context, id string) error

	CreateUserSession(ctx context.Context, s UserSession) error // NotFound for an unknown user
	GetUserSession(ctx context.Context, hash []byte) (UserSession, error)
	DeleteUserSession(ctx context.Context, hash []byte) error // NotFound when absent
	DeleteUserSessions(ctx context.Context, userID string) error
	// DeleteExpiredUserSessions deletes sessions expired at now and says how
	// many.
	DeleteExpiredUserSessions(ctx context.Context, now time.Time) (int, error)
}

// LockedUser reports whether u is locked at now.
func (p LockoutPolicy) LockedUser(u User, now time.Time) bool { return now.Before(u.LockedUntil) }

// CountUserFailure is CountFailure for an org user.
func (p LockoutPolicy) CountUserFailure(u *User, now time.Time) {
	p.count(&u.FailedLogins, &u.FailedSince, &u.LockedUntil, now)
}
