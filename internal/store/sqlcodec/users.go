package sqlcodec

import "github.com/sigtrail/sigtrail/internal/store"

// UserCols read a user with its identity's lock, FROM UserFrom, in both
// backends' schemas (users u JOIN identities i).
const UserCols = `u.id, u.org_id, u.identity_id, u.email, u.role, u.disabled, i.locked_until, u.created_at, u.updated_at`

// UserFrom joins a user to its identity.
const UserFrom = " FROM users u JOIN identities i ON i.id = u.identity_id"

// ScanUser reads a row of UserCols.
func ScanUser(sc interface{ Scan(...any) error }) (store.User, error) {
	var u store.User
	var role string
	var locked, created, updated int64
	err := sc.Scan(&u.ID, &u.OrgID, &u.IdentityID, &u.Email, &role, &u.Disabled, &locked, &created, &updated)
	u.Role = store.Role(role)
	u.LockedUntil = FromNS(locked)
	u.CreatedAt = FromNS(created)
	u.UpdatedAt = FromNS(updated)
	return u, err
}

// IdentityCols are an identity's columns but its email key.
const IdentityCols = `id, email, password_hash, failed_logins, failed_since, locked_until, password_org_id, created_at, updated_at`

// IdentityArgs are the values of IdentityCols for ident at email, then
// the email key: the arguments of an INSERT of IdentityCols, email_key.
func IdentityArgs(ident store.Identity, email string) []any {
	return []any{ident.ID, email, ident.PasswordHash, ident.FailedLogins, ToNS(ident.FailedSince),
		ToNS(ident.LockedUntil), ident.PasswordOrgID, ToNS(ident.CreatedAt), ToNS(ident.UpdatedAt), store.EmailKey(email)}
}

// ScanIdentity reads a row of IdentityCols.
func ScanIdentity(sc interface{ Scan(...any) error }) (store.Identity, error) {
	var x store.Identity
	var failedSince, locked, created, updated int64
	err := sc.Scan(&x.ID, &x.Email, &x.PasswordHash, &x.FailedLogins, &failedSince, &locked, &x.PasswordOrgID, &created, &updated)
	x.FailedSince = FromNS(failedSince)
	x.LockedUntil = FromNS(locked)
	x.CreatedAt = FromNS(created)
	x.UpdatedAt = FromNS(updated)
	return x, err
}
