package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/signing"
)

// maxJWKSBytes caps a key set document; real ones are a few hundred bytes.
const maxJWKSBytes = 1 << 20

// runVerify checks the signature of every line (or, with --pull, of every
// item of pull API answers) against a JWKS, names each failing one and ends
// with "N verified, M failed".
func runVerify(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet("verify", env.Stderr)
	jwks := fs.String("jwks", "", "public keys: a JWKS `URL|FILE` (for example http://HOST/v2/audit-log-webhook/jwks.json)")
	timeout := fs.Duration("timeout", 10*time.Second, "time limit for fetching the JWKS over HTTP(S)")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "lines (or items) are verified on this many cores")
	pull := fs.Bool("pull", false, "the input is pull API answers (GET /v3/audit-logs, concatenated) or NDJSON of their items, not webhook lines")
	complete := fs.Bool("complete", false, "also prove every stream complete: no seq missing, checkpoints reproduced and consistent (lines of destinations with sequence_numbers)")
	server := fs.String("server", "", "with --complete: sigtrail's management API `URL`, to fetch the latest checkpoints and consistency proofs")
	token := fs.String("token", "", "with --server: an API token that may read the audit log")
	from := fs.Int64("from", 1, "with --complete: the first `SEQ` the SIEM should hold in each stream (a webhook added to a stream that had entries sends only later ones)")
	fs.Usage = func() { // to fs.Output(), silenced while parsing (see runDecode)
		fmt.Fprintln(fs.Output(), "usage: sigtrail verify [--pull] --jwks URL|FILE [FILE...]   (reads stdin when no file is given)")
		fmt.Fprintln(fs.Output(), "       sigtrail verify --complete --jwks URL|FILE [--server URL --token T] [FILE...]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, env.Getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(env.Stderr)
			fs.Usage()
			return err
		}
		fmt.Fprintf(env.Stderr, "sigtrail verify: %v (run 'sigtrail verify -h' for the flags)\n", err)
		return errUsage
	}
	if *jwks == "" || *workers < 1 {
		fmt.Fprintln(env.Stderr, "sigtrail verify: --jwks is required and --workers must be at least 1")
		fs.SetOutput(env.Stderr)
		fs.Usage()
		return errUsage
	}
	doc, err := loadJWKS(ctx, *jwks, *timeout)
	if err != nil {
		return err
	}
	v, err := signing.ParseJWKS(doc)
	if err != nil {
		return fmt.Errorf("%s: %w", *jwks, err)
	}
	if *complete || *server != "" {
		if !*complete || *pull || (*server != "" && *token == "") || *from < 1 {
			fmt.Fprintln(env.Stderr, "sigtrail verify: --server needs --complete and --token; --complete reads webhook lines, not --pull; --from is at least 1")
			return errUsage
		}
		return runVerifyComplete(ctx, env, fs.Args(), v, *workers, *server, *token, *timeout, *from)
	}
	out := bufio.NewWriterSize(env.Stdout, 64<<10)
	var total verifyCounts
	malformed := false
	err = eachInput(env, fs.Args(), func(name string, r io.Reader) error {
		var c verifyCounts
		var err error
		if *pull {
			c, err = verifyPulled(ctx, r, v.VerifyPulledItem, *workers, func(n int, item json.RawMessage, why error) error {
				_, err := fmt.Fprintf(out, "%s:%d: %v%s\n", name, n, why, itemLabel(item))
				return err
			})
			// Malformed input ends only its file, stdin included (which
			// eachInput would treat as fatal): the summary still follows.
			var re *readError
			if errors.As(err, &re) {
				fmt.Fprintf(env.Stderr, "sigtrail: %s: %s\n", name, oneLine(re.err.Error()))
				malformed, err = true, nil
			}
		} else {
			c, err = verifyStream(ctx, r, v.VerifyLine, *workers, func(n int, why error) error {
				_, err := fmt.Fprintf(out, "%s:%d: %v\n", name, n, why)
				return err
			})
		}
		total.ok += c.ok
		total.failed += c.failed
		return err
	})
	if err != nil && !errors.Is(err, errFailed) {
		out.Flush()
		return err
	}
	fmt.Fprintf(out, "%d verified, %d failed\n", total.ok, total.failed)
	if ferr := out.Flush(); ferr != nil {
		return ferr
	}
	if err != nil || total.failed > 0 || malformed {
		return errFailed
	}
	// Nothing checked is no proof of anything: a script piping an empty
	// export must not read exit 0 as "all verified".
	if total.ok == 0 {
		fmt.Fprintln(env.Stderr, "sigtrail verify: the input holds no lines to verify")
		return errFailed
	}
	return nil
}

// loadJWKS reads the key set from an http(s) URL or a file.
func loadJWKS(ctx context.Context, src string, timeout time.Duration) ([]byte, error) {
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		b, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("JWKS: %w", err)
		}
		return b, nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("JWKS: %s answered %s", src, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	if len(b) > maxJWKSBytes {
		return nil, fmt.Errorf("JWKS: %s sent more than %d bytes", src, maxJWKSBytes)
	}
	return b, nil
}

type verifyCounts struct{ ok, failed int }

// verifyChunkLines is how many lines a worker takes at once: enough to
// make the hand-over cost nothing next to the signature checks.
const verifyChunkLines = 256

// verifyStream verifies the lines of r on workers goroutines and reports
// the failures through fail in input order. Empty lines are skipped.
func verifyStream(ctx context.Context, r io.Reader, verify func([]byte) error, workers int,
	fail func(n int, why error) error) (verifyCounts, error) {
	var counts verifyCounts
	err := orderedLines(ctx, r, workers, verify, func(n int, why error) error {
		if why == nil {
			counts.ok++
			return nil
		}
		counts.failed++
		return fail(n, why)
	})
	return counts, err
}
