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

// parseFlags parses args, flags and positional arguments in any order
// (`verify siem.log --jwks F` as well as `verify --jwks F siem.log`), then
// fills every flag not given on the command line from SIGTRAIL_<FLAG_NAME>
// (upper case, dashes as underscores). fs.Args() holds the positionals.
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	fs.SetOutput(io.Discard)
	flags, pos := splitArgs(fs, args)
	// The "--" makes the flag package take every positional as one, even
	// one that looks like a flag after an explicit "--".
	if err := fs.Parse(append(append(flags, "--"), pos...)); err != nil {
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

// splitArgs separates flags (with their values) from positional arguments.
// The flag package stops at the first positional, so this walks the whole
// list once (see walkArgs). An unknown flag is kept among the flags so
// that parsing reports it.
func splitArgs(fs *flag.FlagSet, args []string) (flags, pos []string) {
	walkArgs(fs, args, func(i int, positional bool) {
		if positional {
			pos = append(pos, args[i])
		} else if args[i] != "--" {
			flags = append(flags, args[i])
		}
	})
	return flags, pos
}

// walkArgs calls f for each argument, saying whether it is a positional:
// "-" alone is one (stdin), "--" ends the flags, a non-boolean flag of fs
// without "=" takes the next argument as its value.
func walkArgs(fs *flag.FlagSet, args []string, f func(i int, positional bool)) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			f(i, false)
			for j := i + 1; j < len(args); j++ {
				f(j, true)
			}
			return
		case len(a) < 2 || a[0] != '-':
			f(i, true)
			continue
		}
		f(i, false)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		fl := fs.Lookup(name)
		if fl == nil {
			continue
		}
		if b, ok := fl.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			i++
			f(i, false)
		}
	}
}

// subcommand takes the first positional of args as a subcommand ("keys
// --data-dir D list" as well as "keys list --data-dir D"), reading flags
// by fs (for commands whose subcommands differ in flags, the one with the
// most). It returns "" when there is none, and "-h" when help is asked
// before any subcommand.
func subcommand(fs *flag.FlagSet, args []string) (sub string, rest []string) {
	at := -1
	walkArgs(fs, args, func(i int, positional bool) {
		if at < 0 && positional && args[i] != "-" {
			at = i
		}
	})
	for i, a := range args {
		if (at < 0 || i < at) && isHelp(a) && a != "help" {
			return "-h", nil
		}
	}
	if at < 0 {
		return "", args
	}
	if at > 0 && args[at-1] == "--" {
		return "", args
	}
	rest = append(append(rest, args[:at]...), args[at+1:]...)
	return args[at], rest
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

// isHelp reports whether arg asks for help, for commands that read a
// subcommand before their flags.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}
