package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/tenancy"
)

const tokenUsage = "usage: sigtrail token create --org NAME --role ROLE --name LABEL [--system] [--expires DURATION] [--data-dir DIR] [--db URL]\n" +
	"       sigtrail token list --org NAME [--data-dir DIR] [--db URL]\n" +
	"       sigtrail token revoke --org NAME TOKEN_ID [--data-dir DIR] [--db URL]"

// runToken manages API tokens: create, list and revoke.
func runToken(ctx context.Context, env *Env, args []string) error {
	usage := tokenUsage + "\nroles: " + strings.Join(tenancy.RoleNames(), ", ")
	// The subcommand may follow flags: find it with every flag any of
	// them takes (create's are a superset), then put it first.
	probe := newFlagSet("token", env.Stderr)
	storeFlags(probe)
	for _, f := range []string{"org", "role", "name", "expires"} {
		probe.String(f, "", "")
	}
	probe.Bool("system", false, "")
	sub, rest := subcommand(probe, args)
	if isHelp(sub) {
		fmt.Fprintln(env.Stderr, usage)
		return flag.ErrHelp
	}
	args = append([]string{sub}, rest...)
	switch sub {
	case "create":
		return tokenCreate(ctx, env, args, usage)
	case "list", "revoke":
		return tokenListOrRevoke(ctx, env, args, usage)
	}
	fmt.Fprintln(env.Stderr, usage)
	return errUsage
}

// tokenCreate: token create --org NAME --role ROLE --name LABEL [--system]
// [--expires 720h]. The secret goes to stdout alone, so a script can capture
// it; it is shown this once and never stored.
func tokenCreate(ctx context.Context, env *Env, args []string, usage string) error {
	fs := newFlagSet("token create", env.Stderr)
	dataDir, db, keyFile := storeFlags(fs)
	orgName := fs.String("org", "", "the org the token acts for")
	role := fs.String("role", "", "the token's role")
	name := fs.String("name", "", "a label for the token")
	system := fs.Bool("system", false, "a system account token (stspat_..., logged as AUTHENTICATION_TYPE_SPAT)")
	expires := durationFlag(fs, "expires", 0, "lifetime, for example 30d (default: never expires)")
	pos, err := parseWithPositionals(env, fs, args[1:], usage)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return fmt.Errorf("unexpected argument %q; %s", pos[0], strings.SplitN(usage, "\n", 2)[0])
	case *orgName == "":
		return errors.New("--org is required")
	case *role == "":
		return fmt.Errorf("--role is required (one of %s)", strings.Join(tenancy.RoleNames(), ", "))
	case !store.ValidRole(store.Role(*role)):
		return fmt.Errorf("unknown role %q (one of %s)", *role, strings.Join(tenancy.RoleNames(), ", "))
	case strings.TrimSpace(*name) == "":
		return errors.New("--name is required")
	case *expires < 0:
		return errors.New("--expires must not be negative")
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
	ten := tenancy.New(st, clk)
	var o store.Org
	if *orgName == tenancy.SystemOrgName {
		// The system org (requests of no org) exists once the first such
		// request came; an operator may want its token before that.
		o, err = ten.SystemOrg(ctx)
	} else {
		o, err = st.GetOrgByName(ctx, *orgName)
	}
	if apperr.Is(err, apperr.NotFound) {
		return fmt.Errorf("no org named %q (see sigtrail org list)", *orgName)
	}
	if err != nil {
		return err
	}
	t, secret, err := ten.CreateToken(ctx, tenancy.TokenSpec{
		OrgID: o.ID, Name: *name, Role: store.Role(*role), System: *system, TTL: *expires,
	})
	if err != nil {
		return userError(err)
	}
	fmt.Fprintln(env.Stdout, secret)
	until := "never expires"
	if !t.ExpiresAt.IsZero() {
		until = "expires " + t.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z")
	}
	fmt.Fprintf(env.Stderr, "token %s for org %s, role %s, %s; the secret above is shown only this once\n", t.ID, o.Name, t.Role, until)
	return nil
}

// tokenListOrRevoke lists an org's tokens (never their secrets) or revokes
// one by id; a revoked token is refused from the next request on.
func tokenListOrRevoke(ctx context.Context, env *Env, args []string, usage string) error {
	fs := newFlagSet("token "+args[0], env.Stderr)
	dataDir, db, keyFile := storeFlags(fs)
	orgName := fs.String("org", "", "the org whose tokens to list or revoke")
	pos, err := parseWithPositionals(env, fs, args[1:], usage)
	if err != nil {
		return err
	}
	switch {
	case *orgName == "":
		return errors.New("--org is required")
	case args[0] == "list" && len(pos) > 0:
		return fmt.Errorf("unexpected argument %q", pos[0])
	case args[0] == "revoke" && len(pos) != 1:
		return errors.New("revoke takes exactly one TOKEN_ID (see sigtrail token list)")
	}
	st, err := openStore(ctx, *dataDir, *db, *keyFile)
	if err != nil {
		return err
	}
	defer st.Close()
	o, err := st.GetOrgByName(ctx, *orgName)
	if apperr.Is(err, apperr.NotFound) {
		return fmt.Errorf("no org named %q (see sigtrail org list)", *orgName)
	}
	if err != nil {
		return err
	}
	if args[0] == "revoke" {
		if err := st.DeleteToken(ctx, o.ID, pos[0]); err != nil {
			if apperr.Is(err, apperr.NotFound) {
				return fmt.Errorf("org %s has no token %q", o.Name, pos[0])
			}
			return err
		}
		fmt.Fprintf(env.Stderr, "token %s of org %s revoked\n", pos[0], o.Name)
		return nil
	}
	tokens, err := st.ListTokens(ctx, o.ID)
	if err != nil {
		return err
	}
	for _, t := range tokens {
		kind, until := "personal", "never"
		if t.System {
			kind = "system"
		}
		if !t.ExpiresAt.IsZero() {
			until = t.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z")
		}
		fmt.Fprintf(env.Stdout, "%s\t%s\t%s\t%s\texpires %s\t%s\n", t.ID, t.Role, kind,
			t.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"), until, t.Name)
	}
	return nil
}
