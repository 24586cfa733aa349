// Command sigtrail is the sigtrail audit-log service and its tools: the
// server, the SIEM-side sink, and the decode, verify, keys, org, token,
// replay and bench commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sigtrail/sigtrail/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
