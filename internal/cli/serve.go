package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"github.com/sigtrail/sigtrail/internal/httpx"
	"github.com/sigtrail/sigtrail/internal/server"
)

func runServe(ctx context.Context, env *Env, args []string) error {
	cfg := server.Defaults()
	fs := newFlagSet("serve", env.Stderr)
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory for the embedded database and local state")
	fs.StringVar(&cfg.DB, "db", "", "database URL: empty for SQLite in the data dir, postgres://... for PostgreSQL")
	durationVar(fs, &cfg.DBCallTimeout, "db-call-timeout", cfg.DBCallTimeout, "PostgreSQL: how long one store call (retries included) may take before its request answers 503; raise it if replays over large windows time out")
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "management API listen address")
	fs.StringVar(&cfg.PortalAddr, "portal-addr", cfg.PortalAddr, "Dev Portal listen address")
	fs.BoolVar(&cfg.InsecureDestinations, "insecure-destinations", false, "development only: allow http:// and loopback/private destinations")
	durationVar(fs, &cfg.Retention, "retention", cfg.Retention, "how long entries are kept and replayable (for example 7d)")
	fs.StringVar(&cfg.Vendor, "cef-vendor", cfg.Vendor, "CEF device vendor written in every line")
	fs.StringVar(&cfg.Host, "cef-host", cfg.Host, "host written after the timestamp of CEF lines")
	fs.StringVar(&cfg.PortalDomainSuffix, "portal-domain-suffix", cfg.PortalDomainSuffix, "portal NAME gets the default domain NAME.<suffix>")
	proxies := fs.String("trusted-proxies", "", "comma-separated addresses/CIDRs whose X-Forwarded-For is trusted")
	fs.BoolVar(&cfg.PortalHTTPS, "portal-https", false, "a TLS proxy on port 443 fronts the Dev Portal listener: Secure cookies, https:// links in emails")
	fs.BoolVar(&cfg.ConsoleHTTPS, "console-https", false, "a TLS proxy fronts the management listener: the console's cookies are Secure")
	fs.StringVar(&cfg.SMTPURL, "smtp-url", "", "SMTP server for Dev Portal emails, e.g. smtp://127.0.0.1:2525 (empty: emails go to the log)")
	fs.StringVar(&cfg.SMTPFrom, "smtp-from", "", "sender address of Dev Portal emails")
	fs.IntVar(&cfg.MaxBatchLines, "batch-lines", cfg.MaxBatchLines, "most lines in one webhook request")
	fs.IntVar(&cfg.MaxBatchBytes, "batch-bytes", cfg.MaxBatchBytes, "most uncompressed bytes in one webhook request")
	fs.StringVar(&cfg.SecretKeyFile, "secret-key-file", "", "file of keys that encrypt destination secrets and signing private keys at rest (see docs/operations.md)")
	fs.Int64Var(&cfg.IngestMaxInflightBytes, "ingest-max-inflight-bytes", cfg.IngestMaxInflightBytes, "most request-body bytes all ingest requests hold at once; past it POST /v1/entries answers 503 with Retry-After")
	durationVar(fs, &cfg.IngestBodyStallTimeout, "ingest-body-stall-timeout", cfg.IngestBodyStallTimeout, "longest an ingest body may pause; past it POST /v1/entries is cut with 408")
	fs.Int64Var(&cfg.IngestMinBodyRate, "ingest-min-body-rate", cfg.IngestMinBodyRate, "bytes/s an ingest body must average after its first 5s, else POST /v1/entries is cut with 408 (0: no floor)")
	fs.IntVar(&cfg.UnauthAuditBurst, "unauth-audit-burst", cfg.UnauthAuditBurst, "management API requests without valid credentials from one client address (IPv6: its /64) audited at once; past the budget they are answered as usual but reported once a minute instead of audited one by one (negative: every request audited)")
	durationVar(fs, &cfg.UnauthAuditEvery, "unauth-audit-every", cfg.UnauthAuditEvery, "after the burst, one request without valid credentials per client audited every this long")
	fs.StringVar(&cfg.CustomDomainCheck, "custom-domain-check", cfg.CustomDomainCheck, "dns: serve a portal's custom domain only once DNS shows it to be a CNAME of the portal's default domain; none: serve it at once, first come first served (a single tenant only, see docs/operations.md)")
	fs.StringVar(&cfg.CustomDomainDNSServers, "custom-domain-dns-servers", "", "comma-separated name servers (IP[:port]) the custom domain checks ask for CNAME records (empty: those of /etc/resolv.conf)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := parseFlags(fs, args, env.Getenv); err != nil {
		err = flagError(env, fs, err)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(env.Stderr, serveEnvOnly)
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if cfg.TrustedProxies, err = httpx.ParseTrustedProxies(*proxies); err != nil {
		return fmt.Errorf("--trusted-proxies: %v", err)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %q is not debug, info, warn or error", *logLevel)
	}
	cfg.BootstrapToken = strings.TrimSpace(env.Getenv("SIGTRAIL_BOOTSTRAP_TOKEN"))
	if n := len(cfg.BootstrapToken); n > 0 && n < minBootstrapToken {
		// It becomes an org-admin secret: a short one is guessable.
		return fmt.Errorf("SIGTRAIL_BOOTSTRAP_TOKEN is %d characters; use at least %d (for example: openssl rand -hex 24)", n, minBootstrapToken)
	}
	stopProfile, err := startServeProfile(env.Getenv)
	if err != nil {
		return err
	}
	defer stopProfile()
	log := slog.New(slog.NewJSONHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
	return server.Run(ctx, cfg, log, func(a server.Addrs) {
		fmt.Fprintf(env.Stdout, "sigtrail: management API on http://%s, Dev Portals on http://<portal>.%s:%s\n",
			a.API, cfg.PortalDomainSuffix, portOf(a.Portal.String()))
	})
}

// minBootstrapToken is the shortest bootstrap secret serve accepts: 32
// characters of a random token hold far more than 128 bits.
const minBootstrapToken = 32

// serveEnvOnly follows the flags in serve --help: settings that have no
// flag, so that a secret never shows in the process list.
const serveEnvOnly = `environment only:
  SIGTRAIL_BOOTSTRAP_TOKEN=SECRET
    	on the first start with an empty database, create the org "default" and an
    	org-admin token with exactly this secret (at least 32 characters), so a script
    	can start a server and call it at once; later starts change nothing. Without it,
    	create tokens with: sigtrail org create NAME; sigtrail token create --org NAME --role org-admin --name LABEL
`

func portOf(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		return addr[i+1:]
	}
	return addr
}
