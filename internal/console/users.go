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

// CreateUser validates spec, hashes the password with argon2id under p and
// stores the user. A taken email is a Conflict on the email field.
func CreateUser(ctx context.Context, st store.Users, spec UserSpec, p passwd.Params, now time.Time) (store.User, error) {
	spec.Email = strings.TrimSpace(spec.Email)
	if err := CheckUserSpec(spec); err != nil {
		return store.User{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return store.User{}, apperr.Wrap(err, "new user id")
	}
	u := store.User{ID: id.String(), OrgID: spec.OrgID, Email: spec.Email, Role: spec.Role,
		PasswordHash: passwd.Hash(spec.Password, p), CreatedAt: now.UTC(), UpdatedAt: now.UTC()}
	if err := st.CreateUser(ctx, u); err != nil {
		if apperr.Is(err, apperr.Conflict) {
			return store.User{}, &apperr.Error{Code: apperr.Invalid, Message: "Invalid user",
				Params: []apperr.InvalidParam{{Field: "email", Reason: "already belongs to a user"}}}
		}
		return store.User{}, err
	}
	return u, nil
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
