package console

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/webform"
)

// SetPasswordTTL is how long an emailed set-password link works: a day,
// as long as the outbox keeps retrying the mail that carries it.
const SetPasswordTTL = 24 * time.Hour

// inviteMailLimits bound the outbox as the portal's defaults do.
var inviteMailLimits = store.MailLimits{Total: 10000, PerRecipient: 5}

// InviteStore is what emailing a set-password link needs.
type InviteStore interface {
	store.Users
	store.UserTokens
	store.MailOutbox
}

// CheckConsoleURL validates the console's public base URL, as the user's
// browser reaches it, and returns it without a trailing slash.
func CheckConsoleURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" {
		return "", apperr.New(apperr.Invalid, "the console URL must be an http(s) URL such as https://audit.example.com, with no query")
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// InviteUser creates a user with no usable password (no password opens an
// empty hash) and queues an email with a one-time link that sets it.
// Without the email the user can still be sent a new link
// (SendSetPasswordLink).
func InviteUser(ctx context.Context, st InviteStore, spec UserSpec, orgName, consoleURL string, now time.Time) (store.User, error) {
	spec.Email = strings.TrimSpace(spec.Email)
	if err := checkUserSpec(spec, false); err != nil {
		return store.User{}, err
	}
	base, err := CheckConsoleURL(consoleURL)
	if err != nil {
		return store.User{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return store.User{}, apperr.Wrap(err, "new user id")
	}
	u := store.User{ID: id.String(), OrgID: spec.OrgID, Email: spec.Email, Role: spec.Role, CreatedAt: now.UTC(), UpdatedAt: now.UTC()}
	if err := st.CreateUser(ctx, u); err != nil {
		if apperr.Is(err, apperr.Conflict) {
			return store.User{}, &apperr.Error{Code: apperr.Invalid, Message: "Invalid user",
				Params: []apperr.InvalidParam{{Field: "email", Reason: "already belongs to a user"}}}
		}
		return store.User{}, err
	}
	return u, sendSetPasswordLink(ctx, st, u, orgName, base, now, true)
}

// SendSetPasswordLink emails an existing user a one-time link to set a
// new password; earlier links stop working. The current password keeps
// working until the link is used.
func SendSetPasswordLink(ctx context.Context, st InviteStore, u store.User, orgName, consoleURL string, now time.Time) error {
	base, err := CheckConsoleURL(consoleURL)
	if err != nil {
		return err
	}
	return sendSetPasswordLink(ctx, st, u, orgName, base, now, false)
}

func sendSetPasswordLink(ctx context.Context, st InviteStore, u store.User, orgName, base string, now time.Time, invite bool) error {
	if err := st.DeleteUserTokens(ctx, u.ID, store.PurposeSetPassword); err != nil {
		return err
	}
	token := webform.NewSecret()
	now = now.UTC()
	if err := st.CreateUserToken(ctx, store.UserToken{Hash: webform.SecretHash(token), UserID: u.ID, OrgID: u.OrgID,
		Purpose: store.PurposeSetPassword, CreatedAt: now, ExpiresAt: now.Add(SetPasswordTTL)}); err != nil {
		return err
	}
	mailID, err := uuid.NewV7()
	if err != nil {
		return apperr.Wrap(err, "mail id")
	}
	link := base + "/set-password?token=" + token
	subject, text := setPasswordMail(u, orgName, link, invite)
	return st.QueueMail(ctx, store.QueuedMail{ID: mailID.String(), To: u.Email, Subject: subject, Text: text,
		CreatedAt: now, NextAttempt: now}, inviteMailLimits)
}

func setPasswordMail(u store.User, orgName, link string, invite bool) (subject, text string) {
	if invite {
		return "Your sigtrail console account for " + orgName,
			fmt.Sprintf("Hello,\n\nAn account with the role %s was created for %s in the sigtrail console of org %s. Choose your password here:\n\n%s\n\nThe link works once and expires in 24 hours. If you did not expect this, ignore this email.\n",
				u.Role, u.Email, orgName, link)
	}
	return "Set a new password for the sigtrail console",
		fmt.Sprintf("Hello,\n\nAn administrator asked for a new password for %s in the sigtrail console of org %s. Choose it here:\n\n%s\n\nThe link works once and expires in 24 hours; until it is used, your current password keeps working. If you did not expect this, ignore this email.\n",
			u.Email, orgName, link)
}
