package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/console"
	"github.com/sigtrail/sigtrail/internal/httpx"
	"github.com/sigtrail/sigtrail/internal/passwd"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/tenancy"
)

const userUsage = "usage: sigtrail user create --org NAME --email EMAIL --role ROLE (--password-stdin | --console-url URL) [--data-dir DIR] [--db URL]\n" +
	"       sigtrail user reset-password --org NAME --email EMAIL --console-url URL [--data-dir DIR] [--db URL]\n" +
	"       sigtrail user list --org NAME [--data-dir DIR] [--db URL]\n" +
	"       sigtrail user disable|enable --org NAME EMAIL [--data-dir DIR] [--db URL]"

func userRoleNames() string {
	var names []string
	for _, r := range console.UserRoles() {
		names = append(names, string(r))
	}
	return strings.Join(names, ", ")
}

// runUser manages org users, who log in to the console.
func runUser(ctx context.Context, env *Env, args []string) error {
	usage := userUsage + "\nroles: " + userRoleNames()
	probe := newFlagSet("user", env.Stderr)
	storeFlags(probe)
	for _, f := range []string{"org", "email", "role"} {
		probe.String(f, "", "")
	}
	probe.Bool("password-stdin", false, "")
	probe.String("console-url", "", "")
	sub, rest := subcommand(probe, args)
	if isHelp(sub) {
		fmt.Fprintln(env.Stderr, usage)
		return flag.ErrHelp
	}
	switch sub {
	case "create", "list", "disable", "enable", "reset-password":
		return userCommand(ctx, env, sub, rest, usage)
	}
	fmt.Fprintln(env.Stderr, usage)
	return errUsage
}

func userCommand(ctx context.Context, env *Env, sub string, args []string, usage string) error {
	fs := newFlagSet("user "+sub, env.Stderr)
	dataDir, db, keyFile := storeFlags(fs)
	orgName := fs.String("org", "", "the org of the user")
	var email, role, consoleURL *string
	var fromStdin *bool
	if sub == "create" || sub == "reset-password" {
		email = fs.String("email", "", "the user's email, with which they log in")
		consoleURL = fs.String("console-url", "", "the console's public URL, as users' browsers reach it (https://audit.example.com): the base of the emailed set-password link")
	}
	if sub == "create" {
		role = fs.String("role", "", "the user's role: "+userRoleNames())
		fromStdin = fs.Bool("password-stdin", false, "read the password from the first line of standard input (else a set-password link is emailed)")
	}
	pos, err := parseWithPositionals(env, fs, args, usage)
	if err != nil {
		return err
	}
	switch {
	case *orgName == "":
		return errors.New("--org is required")
	case (sub == "create" || sub == "list" || sub == "reset-password") && len(pos) > 0:
		return fmt.Errorf("unexpected argument %q", pos[0])
	case (sub == "disable" || sub == "enable") && len(pos) != 1:
		return fmt.Errorf("%s takes exactly one EMAIL", sub)
	case sub == "create" && *fromStdin && *consoleURL != "":
		return errors.New("--password-stdin and --console-url exclude each other: a password is either piped in or set through the emailed link")
	case (sub == "create" && !*fromStdin || sub == "reset-password") && *consoleURL == "":
		return errors.New("--console-url is required to email a set-password link (or pipe the password in with --password-stdin)")
	case sub == "reset-password" && strings.TrimSpace(*email) == "":
		return errors.New("--email is required")
	}
	if consoleURL != nil && *consoleURL != "" {
		if _, err := console.CheckConsoleURL(*consoleURL); err != nil {
			return fmt.Errorf("--console-url: %w", userError(err))
		}
	}
	var password string
	if sub == "create" && *fromStdin {
		if password, err = readPassword(env.Stdin); err != nil {
			return err
		}
		// Checked before the store opens, so a typo costs nothing.
		if err := console.CheckUserSpec(console.UserSpec{Email: strings.TrimSpace(*email), Role: store.Role(*role), Password: password}); err != nil {
			return userError(err)
		}
	}
	st, err := openStore(ctx, *dataDir, *db, *keyFile)
	if err != nil {
		return err
	}
	defer st.Close()
	clk, err := storeClock(ctx, env, st)
	if err != nil {
		return err
	}
	o, err := st.GetOrgByName(ctx, *orgName)
	if apperr.Is(err, apperr.NotFound) {
		return fmt.Errorf("no org named %q (see sigtrail org list)", *orgName)
	}
	if err != nil {
		return err
	}
	switch sub {
	case "create":
		if !*fromStdin {
			return inviteUser(ctx, env, st, clk, o, console.UserSpec{OrgID: o.ID, Email: *email, Role: store.Role(*role)}, *consoleURL)
		}
		return createUserWithPassword(ctx, env, st, clk, o, console.UserSpec{OrgID: o.ID, Email: *email, Role: store.Role(*role), Password: password})
	case "reset-password":
		return resetUserPassword(ctx, env, st, clk, o, strings.TrimSpace(*email), *consoleURL)
	case "list":
		users, err := st.ListUsers(ctx, o.ID)
		if err != nil {
			return err
		}
		for _, u := range users {
			state := "active"
			if u.Disabled {
				state = "disabled"
			} else if clk.Now().Before(u.LockedUntil) {
				state = "locked"
			}
			fmt.Fprintf(env.Stdout, "%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Role, state, u.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"))
		}
		return nil
	}
	u, err := orgUser(ctx, st, o, pos[0])
	if err != nil {
		return err
	}
	if sub == "disable" {
		return disableUser(ctx, env, st, clk, o, u)
	}
	u.Disabled = false
	u.UpdatedAt = clk.Now().UTC()
	if err := st.UpdateUser(ctx, u); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "user %s of org %s enabled\n", u.Email, o.Name)
	return nil
}

// createUserWithPassword creates a user whose password the operator
// pipes in. An address that already logs in through another org is
// refused: its password is the person's own, in every org, and the
// operator must not change it for them silently; adding them with
// --console-url (an emailed notice, their password kept) is offered
// instead.
func createUserWithPassword(ctx context.Context, env *Env, st store.Store, clk clock.Clock, o store.Org, spec console.UserSpec) error {
	email := strings.TrimSpace(spec.Email)
	if _, err := st.GetUserByEmail(ctx, o.ID, email); !apperr.Is(err, apperr.NotFound) {
		// This org's own user (CreateUser says so) or a store error.
	} else if _, err := st.GetIdentityByEmail(ctx, email); err == nil {
		return fmt.Errorf("%s already logs in to the console through another org, with a password of their own; "+
			"add them without one: sigtrail user create --org %s --email %s --role %s --console-url URL", spec.Email, o.Name, spec.Email, spec.Role)
	} else if !apperr.Is(err, apperr.NotFound) {
		return err
	}
	u, created, err := console.CreateUser(ctx, st, spec, passwd.Default(), clk.Now())
	if err != nil {
		return userError(err)
	}
	if !created { // another org added the address meanwhile
		return fmt.Errorf("user %s (%s) added to org %s with role %s, but another org gave the address its console log-in meanwhile: "+
			"the person keeps that password; the one piped in was not used", u.ID, u.Email, o.Name, u.Role)
	}
	fmt.Fprintf(env.Stderr, "user %s (%s) created in org %s with role %s; they log in to the console at the management listener's /\n",
		u.ID, u.Email, o.Name, u.Role)
	return nil
}

// orgUser finds the org's user with an email.
func orgUser(ctx context.Context, st store.Store, o store.Org, email string) (store.User, error) {
	u, err := st.GetUserByEmail(ctx, o.ID, email)
	if apperr.Is(err, apperr.NotFound) {
		return u, fmt.Errorf("org %s has no user %q", o.Name, email)
	}
	return u, err
}

// disableUser disables u, ending its sessions and revoking the API tokens
// it owns in one store transaction, and records each revocation in the
// org log. The operator acts through no user or token, so the entries name
// no principal and are marked kong_initiated (done by the service, not a
// user of the org).
func disableUser(ctx context.Context, env *Env, st store.Store, clk clock.Clock, o store.Org, u store.User) error {
	now := clk.Now().UTC()
	revoked, err := st.DisableUser(ctx, o.ID, u.ID, now)
	if err != nil {
		return err
	}
	base := audit.Entry{Time: now, OrgID: o.ID, KongInitiated: true, TraceID: httpx.NewTraceID(), UserAgent: "sigtrail-cli"}
	if len(revoked) > 0 {
		if _, err := st.Append(ctx, tenancy.RevocationEntries(base, revoked)); err != nil {
			return fmt.Errorf("user %s disabled and its %d tokens revoked, but the revocations were not recorded in the org log: %w",
				u.Email, len(revoked), err)
		}
	}
	fmt.Fprintf(env.Stderr, "user %s of org %s disabled; %d API tokens it owned revoked\n", u.Email, o.Name, len(revoked))
	return nil
}

// readPassword reads the first line of r, without its line ending.
func readPassword(r io.Reader) (string, error) {
	if r == nil {
		return "", errors.New("no standard input to read the password from")
	}
	line, err := bufio.NewReader(io.LimitReader(r, passwd.MaxLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on standard input")
	}
	return line, nil
}
