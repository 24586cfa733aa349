package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("sigtrail "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args, then fills every flag not given on the command
// line from SIGTRAIL_<FLAG_NAME> (upper case, dashes as underscores).
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%v", err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || envErr != nil {
			return
		}
		key := "SIGTRAIL_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(key); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("%s: %v", key, err)
			}
		}
	})
	return envErr
}

// flagError turns a parseFlags error into the command's answer: -h prints
// the flags and exits 0; a wrong flag is one line pointing at -h.
func flagError(env *Env, fs *flag.FlagSet, err error) error {
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(env.Stderr)
		fmt.Fprintf(env.Stderr, "usage: %s [flags]\nflags (each also read from SIGTRAIL_<FLAG_NAME>):\n", fs.Name())
		fs.PrintDefaults()
		return flag.ErrHelp
	}
	fmt.Fprintf(env.Stderr, "%s: %v (run '%s -h' for the flags)\n", fs.Name(), err, fs.Name())
	return errUsage
}
