package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/console"
	"github.com/sigtrail/sigtrail/internal/store"
)

// inviteUser creates a user with no password and queues the email with
// the link that sets it; the running server's mail outbox sends it.
func inviteUser(ctx context.Context, env *Env, st store.Store, clk clock.Clock, o store.Org, spec console.UserSpec, consoleURL string) error {
	u, err := console.InviteUser(ctx, st, spec, o.Name, consoleURL, clk.Now())
	if u.ID == "" {
		return userError(err)
	}
	if err != nil {
		return fmt.Errorf("user %s (%s) created in org %s without a password, but the set-password email was not queued (%v); send it again with sigtrail user reset-password",
			u.ID, u.Email, o.Name, mailError(err))
	}
	fmt.Fprintf(env.Stderr, "user %s (%s) created in org %s with role %s; a link to set the password, valid for %s, is queued for email (the server sends it)\n",
		u.ID, u.Email, o.Name, u.Role, console.SetPasswordTTL)
	return nil
}

// resetUserPassword emails an existing user a link to set a new password.
func resetUserPassword(ctx context.Context, env *Env, st store.Store, clk clock.Clock, o store.Org, email, consoleURL string) error {
	u, err := st.GetUserByEmail(ctx, email)
	if err != nil || u.OrgID != o.ID {
		if err == nil || apperr.Is(err, apperr.NotFound) {
			return fmt.Errorf("org %s has no user %q", o.Name, email)
		}
		return err
	}
	if err := console.SendSetPasswordLink(ctx, st, u, o.Name, consoleURL, clk.Now()); err != nil {
		return fmt.Errorf("set-password email not queued: %v", mailError(err))
	}
	fmt.Fprintf(env.Stderr, "a link to set a new password for %s, valid for %s, is queued for email; earlier links no longer work\n",
		u.Email, console.SetPasswordTTL)
	return nil
}

func mailError(err error) error {
	if errors.Is(err, store.ErrOutboxFull) {
		return errors.New("the mail outbox is full; is the server running and its SMTP relay reachable?")
	}
	return userError(err)
}
