package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/tenancy"
)

// runToken creates API tokens: token create --org NAME --role ROLE --name
// LABEL [--system] [--expires 720h]. The secret goes to stdout alone, so a
// script can capture it; it is shown this once and never stored.
func runToken(ctx context.Context, env *Env, args []string) error {
	usage := "usage: sigtrail token create --org NAME --role ROLE --name LABEL [--system] [--expires DURATION] [--data-dir DIR] [--db URL]\n" +
		"roles: " + strings.Join(tenancy.RoleNames(), ", ")
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(env.Stderr, usage)
		return errUsage
	}
	fs := newFlagSet("token create", env.Stderr)
	dataDir, db := storeFlags(fs)
	orgName := fs.String("org", "", "the org the token acts for")
	role := fs.String("role", "", "the token's role")
	name := fs.String("name", "", "a label for the token")
	system := fs.Bool("system", false, "a system account token (stspat_..., logged as AUTHENTICATION_TYPE_SPAT)")
	expires := fs.Duration("expires", 0, "lifetime, for example 720h (default: never expires)")
	pos, err := parseWithPositionals(fs, args[1:], env.Getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(env.Stderr, usage)
		}
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
	st, err := openStore(ctx, *dataDir, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	ten := tenancy.New(st, clock.Real{})
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
