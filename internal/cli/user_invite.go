package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/console"
	"github.com/sigtrail/sigtrail/internal/store"
)

// inviteUser adds a user and queues its email, which the running server's
// mail outbox sends: a link that sets the password for a new address, a
// notice for one that already logs in through another org (which keeps
// its password). The answer is the same for both (console.InviteUser).
func inviteUser(ctx context.Context, env *Env, st store.Store, clk clock.Clock, o store.Org, spec console.UserSpec, consoleURL string) error {
	u, err := console.InviteUser(ctx, st, spec, o.Name, consoleURL, clk.Now())
	if u.ID == "" {
		return userError(err)
	}
	if err != nil {
		return fmt.Errorf("user %s (%s) added to org %s, but its email was not queued (%v); send a set-password link with sigtrail user reset-password",
			u.ID, u.Email, o.Name, mailError(err))
	}
	fmt.Fprintf(env.Stderr, "user %s (%s) added to org %s with role %s; an email is queued (the server sends it): "+
		"a link to set the password, valid for %s, or, if the address already logs in through another org, a notice to use that password\n",
		u.ID, u.Email, o.Name, u.Role, console.SetPasswordTTL)
	return nil
}

// resetUserPassword emails an existing user a link to set a new password.
func resetUserPassword(ctx context.Context, env *Env, st store.Store, clk clock.Clock, o store.Org, email, consoleURL string) error {
	u, err := orgUser(ctx, st, o, email)
	if err != nil {
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
