package console

import (
	"context"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/passwd"
	"github.com/sigtrail/sigtrail/internal/store"
)

// UserRoles are the roles an org user may have: a token's, but producer,
// which only writes entries through the ingest API.
func UserRoles() []store.Role {
	return []store.Role{store.RoleOrgAdmin, store.RoleAuditLogAdmin, store.RolePortalAdmin, store.RoleReadOnly}
}

// UserSpec describes a user to create.
type UserSpec struct {
	OrgID    string
	Email    string
	Role     store.Role
	Password string
}

// CheckUserSpec validates a new user: every problem at once, by field.
func CheckUserSpec(spec UserSpec) error { return checkUserSpec(spec, true) }

// checkUserSpec checks the password too when withPassword is set.
func checkUserSpec(spec UserSpec, withPassword bool) error {
	var params []apperr.InvalidParam
	bad := func(field, reason string) { params = append(params, apperr.InvalidParam{Field: field, Reason: reason}) }
	if a, err := mail.ParseAddress(spec.Email); err != nil || a.Address != spec.Email || len(spec.Email) > 254 {
		bad("email", "must be an email address such as ada@example.com")
	} else if !store.EmailKeySafe(spec.Email) {
		bad("email", "must not contain a capital letter outside A-Z (such as İ or the Kelvin sign): "+
			"its lower case could name another mailbox; write the address in lower case")
	}
	valid := false
	var names []string
	for _, r := range UserRoles() {
		valid = valid || r == spec.Role
		names = append(names, string(r))
	}
	if !valid {
		bad("role", "must be one of "+strings.Join(names, ", "))
	}
	if reason := passwordProblem(spec.Password); withPassword && reason != "" {
		bad("password", reason)
	}
	if len(params) > 0 {
		return &apperr.Error{Code: apperr.Invalid, Message: "Invalid user", Params: params}
	}
	return nil
}

// CreateUser validates spec and adds the user to its org. A new address
// gets a new identity whose password is spec.Password (argon2id under p);
// an address that already logs in through another org joins that
// identity, whose password stays the person's own: spec.Password is then
// unused and created is false. The caller decides what to tell whom; the
// console's createUser and InviteUser answer alike for both.
func CreateUser(ctx context.Context, st store.Users, spec UserSpec, p passwd.Params, now time.Time) (_ store.User, created bool, _ error) {
	spec.Email = strings.TrimSpace(spec.Email)
	if err := CheckUserSpec(spec); err != nil {
		return store.User{}, false, err
	}
	return addUser(ctx, st, spec, store.Identity{PasswordHash: passwd.Hash(spec.Password, p)}, now)
}

// addUser stores a user of spec (checked) with a new identity (ident's
// password) unless its address has one.
func addUser(ctx context.Context, st store.Users, spec UserSpec, ident store.Identity, now time.Time) (store.User, bool, error) {
	uid, err := uuid.NewV7()
	if err != nil {
		return store.User{}, false, apperr.Wrap(err, "new user id")
	}
	iid, err := uuid.NewV7()
	if err != nil {
		return store.User{}, false, apperr.Wrap(err, "new identity id")
	}
	now = now.UTC()
	u, created, err := st.CreateUser(ctx, store.User{ID: uid.String(), OrgID: spec.OrgID, Email: spec.Email, Role: spec.Role,
		CreatedAt: now, UpdatedAt: now}, store.Identity{ID: iid.String(), PasswordHash: ident.PasswordHash, PasswordOrgID: ident.PasswordOrgID,
		CreatedAt: now, UpdatedAt: now})
	if apperr.Is(err, apperr.Conflict) {
		// Only this org's own users conflict: its admins see them listed.
		return store.User{}, false, &apperr.Error{Code: apperr.Invalid, Message: "Invalid user",
			Params: []apperr.InvalidParam{{Field: "email", Reason: "already belongs to a user of this org"}}}
	}
	return u, created, err
}

// createUser is the console's "new user" with the admin's initial
// password. A new address gets an identity with that password, marked as
// the org's choice (store.Identity.PasswordOrgID): it enters this org only
// until the person sets their own. For an address that already logs in
// through another org the person joins this org with their own password,
// which the admin neither sets nor learns. The admin sees the same answer
// for both, after the same work (the password is hashed, the identity
// read, one email queued), and the person is emailed in both cases: what
// the org did, and which password to use.
func (h *Handler) createUser(ctx context.Context, spec UserSpec) error {
	spec.Email = strings.TrimSpace(spec.Email)
	if err := CheckUserSpec(spec); err != nil {
		return err
	}
	hash, err := h.hash.Hash(ctx, spec.Password)
	if err != nil {
		return apperr.Wrap(err, "hash password")
	}
	now := h.clk.Now()
	u, created, err := addUser(ctx, h.st, spec, store.Identity{PasswordHash: hash, PasswordOrgID: spec.OrgID}, now)
	if err != nil {
		return err
	}
	id, err := h.st.GetIdentity(ctx, u.IdentityID)
	if err != nil {
		return err
	}
	o, err := h.st.GetOrg(ctx, u.OrgID)
	if err != nil {
		return err
	}
	subject, text := accessMail(u, o.Name, "", id.PasswordOrgID != "")
	if created {
		subject, text = createdMail(u, o.Name)
	}
	// The user exists either way; the email only tells them.
	if err := queueMail(ctx, h.st, u.Email, subject, text, now); err != nil {
		h.log.Warn("console: new user's email not queued", "user_id", u.ID, "org_id", u.OrgID, "err", err)
	}
	return nil
}

// passwordProblem says what is wrong with a new password, "" if nothing.
func passwordProblem(pw string) string {
	switch {
	case utf8.RuneCountInString(pw) < passwd.MinLen:
		return "must be at least 8 characters long"
	case len(pw) > passwd.MaxLen:
		return "must be at most 256 bytes long"
	}
	return ""
}
