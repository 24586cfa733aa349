// Package cli is sigtrail's command line: it parses arguments and the
// SIGTRAIL_* environment, and runs one command. Run takes every outside
// dependency as an argument so tests boot whole commands in-process.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/sigtrail/sigtrail/internal/clock"
)

// Env is what a command may touch of the outside world.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Clock is the host's clock (clock.Real when nil); commands that write
	// instants other processes compare read the database's through it
	// (storeClock).
	Clock clock.Clock
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the sigtrail server", runServe},
		{"sink", "run a SIEM-side receiver for trials, demos and benchmarks", runSink},
		{"decode", "parse CEF lines into JSON objects", runDecode},
		{"verify", "check the signatures of audit log lines", runVerify},
		{"keys", "list or rotate the signing keys (keys list | keys rotate)", runKeys},
		{"org", "manage orgs (org create NAME | org list)", runOrg},
		{"token", "manage API tokens (token create --org NAME --role ROLE --name LABEL)", runToken},
		{"user", "manage console users (user create --org NAME --email E --role ROLE --password-stdin)", runUser},
		{"secrets", "re-encrypt stored secrets with the current key (secrets reseal --secret-key-file FILE)", runSecrets},
		{"replay", "start a replay job and follow it to the end", runReplay},
		{"bench", "push entries through a server to a sink and measure", runBench},
		{"version", "print the version", runVersion},
	}
}

// Version is the program version, set at build time with -ldflags.
var Version = "dev"

// errUsage marks an error already explained by a usage message.
var errUsage = errors.New("usage")

// Run runs the command named by args[0] and returns the exit status: 0 on
// success, 1 on failure, 2 on a usage error. Failures print one line.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := &Env{Getenv: getenv, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version" || args[0] == "-v") {
		args = append([]string{"version"}, args[1:]...)
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		case errors.Is(err, errFailed):
			return 1
		}
		fmt.Fprintf(stderr, "sigtrail %s: %s\n", c.name, oneLine(err.Error()))
		return 1
	}
	fmt.Fprintf(stderr, "sigtrail: unknown command %q (run 'sigtrail help')\n", args[0])
	return 2
}

// errFailed is returned by a command that has already reported its failure
// (for example verify, which names each failing line) and only wants exit 1.
var errFailed = errors.New("failed")

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: sigtrail COMMAND [flags]")
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func runVersion(_ context.Context, env *Env, args []string) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintln(env.Stderr, "usage: sigtrail version   (also: sigtrail --version)")
		return flag.ErrHelp
	}
	if len(args) > 0 {
		return fmt.Errorf("takes no arguments")
	}
	fmt.Fprintf(env.Stdout, "sigtrail %s\n", version())
	return nil
}

// version is Version, with the VCS revision the binary was built from when
// Version was not set at build time.
func version() string {
	if Version != "dev" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Version
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+modified"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return Version + " (" + bi.GoVersion + ")"
	}
	return Version + "-" + rev + modified + " (" + bi.GoVersion + ")"
}
