package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/signing"
	"github.com/sigtrail/sigtrail/internal/sink"
)

// runSink serves a SIEM-side receiver until ctx ends.
func runSink(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet("sink", env.Stderr)
	addr := fs.String("addr", "127.0.0.1:9000", "listen address `HOST:PORT` (port 0 picks one)")
	jwks := fs.String("jwks", "", "check signatures against this JWKS `URL|FILE`")
	jwksWait := fs.Duration("jwks-wait", 30*time.Second, "keep trying a --jwks URL this long at start (the server may still be starting)")
	out := fs.String("out", "", "append every received line to `FILE`")
	failRate := fs.Float64("fail-rate", 0, "fraction of requests to fail, 0 to 1 (when not given: 1 with --fail-status or --reset, else 0)")
	failStatus := fs.Int("fail-status", 0, "HTTP `status` of failed requests, for example 500 or 429 (default 500)")
	retryAfter := fs.Duration("retry-after", 0, "send Retry-After with failed 429 and 503 answers")
	delay := fs.Duration("delay", 0, "wait this long before answering each request")
	reset := fs.Bool("reset", false, "failed requests drop the connection instead of answering")
	verifyEvery := fs.Int("verify-every", 1, "check the signature of one line in `N`")
	if err := parseFlags(fs, args, env.Getenv); err != nil {
		return flagUsage(env, fs, "sink", err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(env.Stderr, "sigtrail sink: takes no arguments")
		return errUsage
	}
	rate := *failRate
	rateGiven := false
	fs.Visit(func(f *flag.Flag) { rateGiven = rateGiven || f.Name == "fail-rate" })
	if !rateGiven && (*failStatus != 0 || *reset) {
		rate = 1
	}
	log := slog.New(slog.NewJSONHandler(env.Stderr, nil))
	cfg := sink.Config{
		FailRate: rate, FailStatus: *failStatus, Reset: *reset, RetryAfter: *retryAfter,
		Delay: *delay, VerifyEvery: *verifyEvery, Logger: log,
	}
	if *jwks != "" {
		keys, err := loadKeySet(ctx, *jwks, *jwksWait)
		if err != nil {
			return err
		}
		cfg.Keys = keys
	}
	if *out != "" {
		f, err := os.OpenFile(*out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		cfg.Out = f
	}
	s, err := sink.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "sink listening on http://%s\n", ln.Addr())
	return serveUntilDone(ctx, ln, s)
}

// loadKeySet loads the JWKS; a URL that does not answer yet is tried again
// for up to wait, so a sink can be started alongside the server it checks.
func loadKeySet(ctx context.Context, src string, wait time.Duration) (*sink.KeySet, error) {
	deadline := time.Now().Add(wait)
	for {
		keys, err := sink.NewKeySet(ctx, src, parseJWKS, nil, nil)
		remote := strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://")
		if err == nil || !remote || time.Now().After(deadline) {
			return keys, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// flagUsage reports a flag error (or -h) with the command's flags: exit 0
// for -h, 2 otherwise.
func flagUsage(env *Env, fs *flag.FlagSet, name string, err error) error {
	if !errors.Is(err, flag.ErrHelp) {
		// One line, as every command says a wrong flag; -h has the rest.
		fmt.Fprintf(env.Stderr, "sigtrail %s: %v (run 'sigtrail %s -h' for the flags)\n", name, err, name)
		return errUsage
	}
	fs.SetOutput(env.Stderr)
	fs.Usage()
	return err
}

func parseJWKS(b []byte) (sink.Verifier, error) { return signing.ParseJWKS(b) }

// serveUntilDone serves h on ln until ctx ends, then shuts down gracefully.
func serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}
