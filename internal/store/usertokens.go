package store

import (
	"context"
	"time"
)

// PurposeSetPassword is a user token emailed to set a password: to a new
// user, or to one whose password an admin reset.
const PurposeSetPassword = "set-password"

// PurposeChooseOrg is the short-lived secret of a browser whose person
// passed the password and has several orgs to choose from; it opens no
// org's pages, only the choice.
const PurposeChooseOrg = "choose-org"

// UserToken is a one-time secret emailed to an org user, or the device
// token of a browser the user logged in on (PurposeDevice); only its
// SHA-256 is kept, so a copy of the database sets no password and is no
// known device.
type UserToken struct {
	Hash      []byte
	UserID    string
	OrgID     string
	Purpose   string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// UserTokens keeps org users' one-time and device tokens.
type UserTokens interface {
	// CreateUserToken stores t: NotFound for an unknown user, Conflict on a
	// reused hash.
	CreateUserToken(ctx context.Context, t UserToken) error
	// GetUserToken finds a token by hash without using it up.
	GetUserToken(ctx context.Context, hash []byte) (UserToken, error)
	// ConsumeUserToken deletes and returns a token in one step, so of two
	// concurrent uses exactly one gets it; NotFound when absent. An expired
	// token is returned too (and gone): the caller judges expiry.
	ConsumeUserToken(ctx context.Context, hash []byte) (UserToken, error)
	// DeleteUserTokens deletes a user's tokens of one purpose (all
	// purposes when purpose is empty).
	DeleteUserTokens(ctx context.Context, userID, purpose string) error
	// DeleteExpiredUserTokens deletes tokens expired at now and says how
	// many.
	DeleteExpiredUserTokens(ctx context.Context, now time.Time) (int, error)
}
