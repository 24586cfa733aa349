package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	store.RateLimits
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

// InviteUser adds a user and queues an email. A new address gets an
// identity with no usable password (no password opens an empty hash) and
// a one-time link that sets it; without the email the user can still be
// sent a new link (SendSetPasswordLink). An address that already logs in
// through another org joins that identity and is told instead that it was
// given access to this org, to log in with its existing password; or, if
// that password was chosen by another org's admin, gets the link too. The
// inviting org cannot tell the two apart: same answer, same store work
// (a same-cost write stands in for the link), and nothing it could set or
// read of the person's password.
func InviteUser(ctx context.Context, st InviteStore, spec UserSpec, orgName, consoleURL string, now time.Time) (store.User, error) {
	spec.Email = strings.TrimSpace(spec.Email)
	if err := checkUserSpec(spec, false); err != nil {
		return store.User{}, err
	}
	base, err := CheckConsoleURL(consoleURL)
	if err != nil {
		return store.User{}, err
	}
	u, created, err := addUser(ctx, st, spec, store.Identity{}, now)
	if err != nil {
		return store.User{}, err
	}
	id, err := st.GetIdentity(ctx, u.IdentityID)
	if err != nil {
		return u, err
	}
	// A password another org's admin chose is not the person's: they get
	// the link to set their own, as a new address does.
	if created || id.PasswordOrgID != "" {
		return u, sendSetPasswordLink(ctx, st, u, orgName, base, now, true)
	}
	if err := st.DeleteUserTokens(ctx, u.ID, store.PurposeSetPassword); err != nil {
		return u, err
	}
	if err := sameWorkAsLink(ctx, st, u.Email, now); err != nil {
		return u, err
	}
	subject, text := accessMail(u, orgName, base, false)
	return u, queueMail(ctx, st, u.Email, subject, text, now)
}

// sameWorkAsLink does the write storing a set-password link costs, on a
// rate bucket keyed by the hashed address, for an invite that emails no
// link.
func sameWorkAsLink(ctx context.Context, st store.RateLimits, email string, now time.Time) error {
	sum := sha256.Sum256([]byte(store.EmailKey(email)))
	_, _, err := st.TakeRateToken(ctx, "console/invite-existing/"+hex.EncodeToString(sum[:16]), now, failureWorkRate)
	return err
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
	link := base + "/set-password?token=" + token
	subject, text := setPasswordMail(u, orgName, link, invite)
	return queueMail(ctx, st, u.Email, subject, text, now)
}

func queueMail(ctx context.Context, st store.MailOutbox, to, subject, text string, now time.Time) error {
	mailID, err := uuid.NewV7()
	if err != nil {
		return apperr.Wrap(err, "mail id")
	}
	now = now.UTC()
	return st.QueueMail(ctx, store.QueuedMail{ID: mailID.String(), To: to, Subject: subject, Text: text,
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

// accessMail tells a person who already logs in through another org that
// an org added them. It carries no link that sets anything: their
// password is their own. base is the console's URL, "" when unknown;
// chosen says their password was chosen by another org's admin, so they
// enter this org only once they set their own.
func accessMail(u store.User, orgName, base string, chosen bool) (subject, text string) {
	where := "the sigtrail console"
	if base != "" {
		where = base + "/login"
	}
	how := fmt.Sprintf("Log in with your existing email and password at %s and choose %s; your password is unchanged (if you never set one, use the link of your first invitation, or ask an org admin for a new one).", where, orgName)
	if chosen {
		how = fmt.Sprintf("Your current password was chosen by an administrator of another org, so it does not open %s: ask the operator of this sigtrail server, or an admin of %s, for a link that sets a password of your own, then log in at %s.", orgName, orgName, where)
	}
	return "You were given access to " + orgName + " in the sigtrail console",
		fmt.Sprintf("Hello,\n\n%s was given the role %s in the sigtrail console of org %s. %s If you did not expect this, ignore this email.\n",
			u.Email, u.Role, orgName, how)
}

// createdMail tells a person an org admin created their account with an
// initial password, which the admin gives them.
func createdMail(u store.User, orgName string) (subject, text string) {
	return "Your sigtrail console account for " + orgName,
		fmt.Sprintf("Hello,\n\nAn account with the role %s was created for %s in the sigtrail console of org %s. The org admin who created it gives you its initial password. If you did not expect this, ignore this email.\n",
			u.Role, u.Email, orgName)
}
