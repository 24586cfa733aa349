package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/sigtrail/sigtrail/internal/sealing"
)

const secretsUsage = "usage: sigtrail secrets reseal --secret-key-file FILE [--data-dir DIR] [--db URL]"

// runSecrets: secrets reseal seals every stored secret with the key file's
// current (first) key: plaintext left from before a key was configured,
// and values sealed with older keys, which can then leave the file.
func runSecrets(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet("secrets reseal", env.Stderr)
	dataDir, db, keyFile := storeFlags(fs)
	sub, rest := subcommand(fs, args)
	if isHelp(sub) {
		fmt.Fprintln(env.Stderr, secretsUsage)
		fs.SetOutput(env.Stderr)
		fs.PrintDefaults()
		return flag.ErrHelp
	}
	if sub != "reseal" {
		fmt.Fprintln(env.Stderr, secretsUsage)
		return errUsage
	}
	if err := parseFlags(fs, rest, env.Getenv); err != nil {
		return flagError(env, fs, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *keyFile == "" {
		return errors.New("--secret-key-file (or SIGTRAIL_SECRET_KEY_FILE) is required")
	}
	keys, err := sealing.LoadKeyFile(*keyFile)
	if err != nil {
		return err
	}
	// Reseal reads values as stored and writes them sealed: it works on
	// the store under the sealing layer.
	st, err := openStore(ctx, *dataDir, *db, "")
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := sealing.Reseal(ctx, sealing.Inner(st), keys)
	if err != nil {
		return fmt.Errorf("reseal (after %d destination(s), %d signing key(s)): %w", n.Destinations, n.SigningKeys, err)
	}
	fmt.Fprintf(env.Stdout, "resealed %d destination authorization(s) and %d signing key(s); every secret is now sealed with key %s\n",
		n.Destinations, n.SigningKeys, keys.Current())
	if n.IdentityProviders > 0 {
		fmt.Fprintf(env.Stdout, "resealed %d identity provider client secret(s)\n", n.IdentityProviders)
	}
	return nil
}
