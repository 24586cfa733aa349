package store

import (
	"context"
	"time"
)

// Identity is a person who logs in to the console: one email (unique
// across the server, compared by EmailKey), one password, one failure
// count and lock, whatever orgs the person belongs to. The log-in form
// names no org, so the address alone finds the identity; its memberships
// (User) say which orgs it may enter.
type Identity struct {
	ID           string
	Email        string
	PasswordHash string // argon2id, PHC string; empty until set
	FailedLogins int
	FailedSince  time.Time // start of the current failure window
	LockedUntil  time.Time
	// PasswordOrgID is the org whose admin chose the current password
	// (the console's "new user" form); "" once the person set it through
	// an emailed link, or when the operator did. While set, the identity
	// may enter that org only: an org that made up a person's password
	// must never enter another org as them.
	PasswordOrgID string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// User is an org user: one identity's membership of one org, with its
// role. An email is unique per org, not across orgs: the same person may
// be a user of several orgs, each with its own ID, role and disabled
// state. User IDs are unique across orgs; sessions, emailed tokens and
// owned API tokens belong to a User.
type User struct {
	ID         string
	OrgID      string
	IdentityID string
	// Email is the address as this org wrote it (the identity's, but for
	// case): an org never sees how another org spelled it.
	Email    string
	Role     Role // as for tokens; RoleProducer is refused by callers
	Disabled bool
	// LockedUntil is the identity's lock (read only here): lockout
	// applies to the person, in every org.
	LockedUntil time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// UserSession is a console session, bound to one User (one membership);
// only the SHA-256 of its secret is kept, so a copy of the database opens
// no session.
type UserSession struct {
	Hash      []byte
	UserID    string
	OrgID     string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// LoginGrant is what a log-in gives a browser (a session, a chooser token,
// a device token), conditional on the password it was judged on.
type LoginGrant struct {
	IdentityID string
	// PasswordHash is the hash the password was checked against.
	PasswordHash string
	Sessions     []UserSession
	Tokens       []UserToken
}

// Users keeps identities, their memberships of orgs (org users) and the
// console sessions.
type Users interface {
	// CreateUser adds u to org u.OrgID for the identity of u.Email. When no
	// identity has that address, ident is stored first (with u.Email; its
	// ID and password hash as given) and created is true; otherwise the
	// existing identity is used untouched, ident is ignored and created is
	// false. Either way the returned user carries its IdentityID. Conflict when the org already has a user with that
	// address; NotFound for an unknown org.
	CreateUser(ctx context.Context, u User, ident Identity) (_ User, created bool, _ error)
	GetUser(ctx context.Context, orgID, id string) (User, error)
	GetUserByEmail(ctx context.Context, orgID, email string) (User, error) // the org's user, any case
	ListUsers(ctx context.Context, orgID string) ([]User, error)           // by ID
	// ListIdentityUsers lists an identity's users in every org, by ID.
	ListIdentityUsers(ctx context.Context, identityID string) ([]User, error)
	// UpdateUser replaces role, disabled and the update time (not the org,
	// the identity or the creation time). A user left disabled loses its
	// sessions and the API tokens it owns in the same transaction, as with
	// DisableUser; the identity's other users keep theirs.
	UpdateUser(ctx context.Context, u User) error
	// DisableUser disables a user of the org at now and, in the same
	// transaction, ends its console sessions and deletes the API tokens it
	// owns (Token.OwnerUserID), which it returns in ID order so the caller
	// can audit each revocation. NotFound for no such user in the org.
	// Disabling a disabled user revokes whatever it still owns (nothing,
	// normally) and succeeds. The identity's users in other orgs are
	// untouched.
	DisableUser(ctx context.Context, orgID, id string, now time.Time) ([]Token, error)

	GetIdentity(ctx context.Context, id string) (Identity, error)
	GetIdentityByEmail(ctx context.Context, email string) (Identity, error) // any case
	// SetIdentityPassword sets the identity's password hash at now as the
	// person's own (PasswordOrgID ""), clears its failure count and lock,
	// and, in the same transaction, ends the
	// console sessions and deletes the user tokens (device, set-password,
	// chooser) of all its users, in every org: a new password starts the
	// person's trust afresh everywhere. NotFound for an unknown identity.
	SetIdentityPassword(ctx context.Context, id, hash string, now time.Time) error
	// RecordIdentityLoginFailure counts one failed log-in at now under p
	// (LockoutPolicy.CountIdentityFailure) atomically, so failures reaching
	// several replicas at once all count, and returns the identity after
	// it.
	RecordIdentityLoginFailure(ctx context.Context, id string, now time.Time, p LockoutPolicy) (Identity, error)
	// ClearIdentityLoginFailures resets the failure count and lock.
	ClearIdentityLoginFailures(ctx context.Context, id string) error

	// CreateLoginGrant stores what a log-in gives a browser, in one
	// transaction, only while the identity's password hash is still
	// g.PasswordHash; Conflict when it is not (or the identity is gone). A
	// log-in judged on a password that a concurrent SetIdentityPassword
	// replaced thus opens nothing that outlives the change: either the
	// grant commits first and the change ends it, or the grant fails.
	CreateLoginGrant(ctx context.Context, g LoginGrant) error
	CreateUserSession(ctx context.Context, s UserSession) error // NotFound for an unknown user
	GetUserSession(ctx context.Context, hash []byte) (UserSession, error)
	DeleteUserSession(ctx context.Context, hash []byte) error // NotFound when absent
	DeleteUserSessions(ctx context.Context, userID string) error
	// DeleteExpiredUserSessions deletes sessions expired at now and says how
	// many.
	DeleteExpiredUserSessions(ctx context.Context, now time.Time) (int, error)
}

// LockedIdentity reports whether i is locked at now.
func (p LockoutPolicy) LockedIdentity(i Identity, now time.Time) bool {
	return now.Before(i.LockedUntil)
}

// CountIdentityFailure is CountFailure for a console identity.
func (p LockoutPolicy) CountIdentityFailure(i *Identity, now time.Time) {
	p.count(&i.FailedLogins, &i.FailedSince, &i.LockedUntil, now)
}
