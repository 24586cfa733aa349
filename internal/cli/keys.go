package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/sigtrail/sigtrail/internal/signing"
)

// defaultRetention matches serve's default: entries, and so the keys that
// signed them, are kept 7 days.
const defaultRetention = 7 * 24 * time.Hour

// runKeys lists or rotates the signing keys in the store.
func runKeys(ctx context.Context, env *Env, args []string) error {
	usage := func() {
		fmt.Fprintln(env.Stderr, "usage: sigtrail keys list|rotate [--data-dir DIR] [--db URL] [--retention DURATION]")
	}
	fs := newFlagSet("keys", env.Stderr)
	dataDir, db, keyFile := storeFlags(fs)
	retention := durationFlag(fs, "retention", defaultRetention, "how long a retired key stays published (as serve's --retention)")
	sub, rest := subcommand(fs, args)
	if isHelp(sub) {
		usage()
		fs.SetOutput(env.Stderr)
		fs.PrintDefaults()
		return flag.ErrHelp
	}
	if sub != "list" && sub != "rotate" {
		usage()
		return errUsage
	}
	if err := parseFlags(fs, rest, env.Getenv); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(env.Stderr, "sigtrail keys: %v\n", err)
		}
		usage()
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(env.Stderr)
			fs.PrintDefaults()
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "sigtrail keys: unexpected argument %q\n", fs.Arg(0))
		usage()
		return errUsage
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
		stored, err := st.ListSigningKeys(ctx)
		if err != nil {
			return err
		}
		if len(stored) == 0 {
			fmt.Fprintln(env.Stdout, "no signing keys yet: serve or keys rotate creates the first")
			return nil
		}
		keys := make([]signing.Key, 0, len(stored))
		for i := len(stored) - 1; i >= 0; i-- {
			keys = append(keys, signing.Key{ID: stored[i].ID, CreatedAt: stored[i].CreatedAt, RetiredAt: stored[i].RetiredAt})
		}
		return printKeys(env.Stdout, keys, clk.Now(), *retention)
	}
	stored, err := st.ListSigningKeys(ctx)
	if err != nil {
		return err
	}
	kr, err := signing.Open(ctx, st, clk, *retention)
	if err != nil {
		return err
	}
	if len(stored) == 0 { // Open just made the first key: nothing to rotate yet
		fmt.Fprintf(env.Stdout, "created the first key %s\n", kr.ActiveID())
		return printKeys(env.Stdout, kr.Keys(), clk.Now(), *retention)
	}
	old := kr.ActiveID()
	kid, err := kr.Rotate(ctx)
	if err != nil {
		return err
	}
	newest := kr.Keys()[0]
	fmt.Fprintf(env.Stdout, "new key %s is published now and signs from %s (servers publish it within %s)\n",
		kid, newest.CreatedAt.UTC().Format(time.RFC3339), signing.DefaultReloadEvery)
	fmt.Fprintf(env.Stdout, "%s signs until then and stays published until %s\n",
		old, newest.CreatedAt.Add(*retention).UTC().Format(time.RFC3339))
	return printKeys(env.Stdout, kr.Keys(), clk.Now(), *retention)
}

// printKeys prints one key per line, newest first.
func printKeys(w io.Writer, keys []signing.Key, now time.Time, retention time.Duration) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tSIGNS FROM\tSTATE")
	for _, k := range keys {
		state := "active (signs)"
		if k.Active() && k.CreatedAt.After(now) {
			state = "published, signs from " + k.CreatedAt.UTC().Format(time.RFC3339)
		}
		if !k.Active() {
			until := k.RetiredAt.Add(retention)
			state = "retired at " + k.RetiredAt.UTC().Format(time.RFC3339) + ", published until " + until.UTC().Format(time.RFC3339)
			if !until.After(now) {
				state = "expired (dropped at the next reload)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", k.ID, k.CreatedAt.UTC().Format(time.RFC3339), state)
	}
	return tw.Flush()
}
