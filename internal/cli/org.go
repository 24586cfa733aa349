package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/tenancy"
)

// parseWithPositionals parses flags given before or after the positional
// arguments and returns the positionals (see parseFlags). -h prints usage;
// a wrong flag is one line pointing at -h and exits 2, as for every other
// command.
func parseWithPositionals(env *Env, fs *flag.FlagSet, args []string, usage string) ([]string, error) {
	if err := parseFlags(fs, args, env.Getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(env.Stderr, usage)
			return nil, err
		}
		return nil, flagError(env, fs, err)
	}
	return fs.Args(), nil
}

// userError renders an application error as one line a person can act on.
func userError(err error) error {
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code == apperr.Internal {
		return err
	}
	if len(ae.Params) > 0 {
		var parts []string
		for _, p := range ae.Params {
			parts = append(parts, strings.TrimPrefix(p.Field+" ", "body ")+p.Reason)
		}
		return errors.New(strings.Join(parts, "; "))
	}
	return errors.New(ae.Message)
}

// runOrg manages orgs: org create NAME, org list.
func runOrg(ctx context.Context, env *Env, args []string) error {
	const usage = "usage: sigtrail org create NAME | sigtrail org list  [--data-dir DIR] [--db URL]"
	fs := newFlagSet("org", env.Stderr)
	dataDir, db, keyFile := storeFlags(fs)
	sub, rest := subcommand(fs, args)
	if isHelp(sub) {
		fmt.Fprintln(env.Stderr, usage)
		return flag.ErrHelp
	}
	if sub == "" {
		fmt.Fprintln(env.Stderr, usage)
		return errUsage
	}
	pos, err := parseWithPositionals(env, fs, rest, usage)
	if err != nil {
		return err
	}
	switch {
	case sub == "create" && len(pos) == 1:
	case sub == "list" && len(pos) == 0:
	default:
		return errors.New(usage)
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
	if sub == "list" {
		orgs, err := st.ListOrgs(ctx)
		if err != nil {
			return err
		}
		for _, o := range orgs {
			fmt.Fprintf(env.Stdout, "%s\t%s\t%s\n", o.ID, o.Name, o.CreatedAt.UTC().Format(time.RFC3339))
		}
		return nil
	}
	o, err := tenancy.New(st, clk).CreateOrg(ctx, pos[0])
	if err != nil {
		return userError(err)
	}
	fmt.Fprintf(env.Stdout, "%s\t%s\n", o.ID, o.Name)
	return nil
}
