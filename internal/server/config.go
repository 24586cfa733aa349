package server

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/api"
	"github.com/sigtrail/sigtrail/internal/customdomain"
	"github.com/sigtrail/sigtrail/internal/httpx"
	"github.com/sigtrail/sigtrail/internal/store/postgres"
)

// Config is everything `sigtrail serve` can be told.
type Config struct {
	DataDir              string        // keys, the SQLite file
	DB                   string        // empty: SQLite in DataDir; postgres://... selects PostgreSQL
	DBCallTimeout        time.Duration // PostgreSQL: bound of one store call, retries included
	Addr                 string        // management API listener
	PortalAddr           string        // Dev Portal listener
	InsecureDestinations bool          // allow http:// and private/loopback destinations (development)
	BootstrapToken       string        // SIGTRAIL_BOOTSTRAP_TOKEN
	Retention            time.Duration // how long entries are kept (and replayable)
	Vendor               string        // CEF device vendor
	Host                 string        // host written after the timestamp of CEF lines
	PortalDomainSuffix   string        // portal "acme" is served at acme.<suffix>
	TrustedProxies       httpx.TrustedProxies
	// PortalHTTPS says a TLS proxy on port 443 fronts the portal listener:
	// cookies are Secure and emailed links are https://<portal domain>/.
	PortalHTTPS bool
	// ConsoleHTTPS says a TLS proxy fronts the management listener: the
	// console's cookies are Secure on plain HTTP requests too.
	ConsoleHTTPS  bool
	SMTPURL       string // smtp://host:port; empty: emails go to the log
	SMTPFrom      string
	MaxBatchLines int
	MaxBatchBytes int
	// SecretKeyFile holds the keys that seal secrets at rest (package
	// sealing); empty: they are stored unencrypted.
	SecretKeyFile string
	// IngestMaxInflightBytes bounds the ingest request bodies held at once;
	// past it an ingest is refused with 503 and Retry-After.
	IngestMaxInflightBytes int64
	// IngestBodyStallTimeout is the longest an ingest body may pause and
	// IngestMinBodyRate the average (bytes/s, 0: none) it must keep after
	// a grace of api.DefaultIngestBodyGrace; past either the request is
	// cut with 408.
	IngestBodyStallTimeout time.Duration
	IngestMinBodyRate      int64
	// UnauthAuditBurst and UnauthAuditEvery budget, per client address (an
	// IPv6 client's /64), the audit entries of management API requests
	// without valid credentials: Burst audited at once, then one every
	// Every; past it requests are answered as usual but reported once a
	// minute instead of audited one by one. A negative burst turns the
	// budget off.
	UnauthAuditBurst int
	UnauthAuditEvery time.Duration
	// CustomDomainCheck is how portals' custom domains are verified
	// (customdomain.ModeDNS or ModeNone), and CustomDomainDNSServers the
	// name servers asked (comma-separated; empty: those of /etc/resolv.conf).
	CustomDomainCheck      string
	CustomDomainDNSServers string
}

// Defaults returns the configuration `sigtrail serve` starts from.
func Defaults() Config {
	return Config{
		DataDir:            "./sigtrail-data",
		DBCallTimeout:      postgres.DefaultCallTimeout,
		Addr:               "127.0.0.1:8080",
		PortalAddr:         "127.0.0.1:8081",
		Retention:          7 * 24 * time.Hour,
		Vendor:             "KongInc",
		Host:               "konghq.com",
		PortalDomainSuffix: "localhost",
		MaxBatchLines:      1000,
		MaxBatchBytes:      1 << 20,

		IngestMaxInflightBytes: api.DefaultIngestMaxInflightBytes,
		IngestBodyStallTimeout: api.DefaultIngestBodyStallTimeout,
		IngestMinBodyRate:      api.DefaultIngestMinBodyRate,
		UnauthAuditBurst:       api.DefaultUnauthAuditBurst,
		UnauthAuditEvery:       api.DefaultUnauthAuditEvery,
		CustomDomainCheck:      string(customdomain.ModeDNS),
	}
}

// Validate checks the configuration before anything starts.
func (c Config) Validate() error {
	var errs []string
	if c.DataDir == "" {
		errs = append(errs, "--data-dir is required")
	}
	if c.DBCallTimeout < time.Second || c.DBCallTimeout > 10*time.Minute {
		errs = append(errs, "--db-call-timeout must be between 1s and 10m")
	}
	if c.Retention < time.Hour {
		errs = append(errs, "--retention must be at least 1h")
	}
	if c.Host == "" || strings.ContainsAny(c.Host, " \t\r\n|") {
		errs = append(errs, "--cef-host must be a non-empty host name without spaces or '|'")
	}
	if c.Vendor == "" || strings.ContainsAny(c.Vendor, "\r\n") {
		errs = append(errs, "--cef-vendor must be a non-empty single line")
	}
	if (c.SMTPURL == "") != (c.SMTPFrom == "") {
		errs = append(errs, "--smtp-url and --smtp-from go together")
	}
	if c.MaxBatchLines < 1 || c.MaxBatchBytes < 1024 {
		errs = append(errs, "--batch-lines must be at least 1 and --batch-bytes at least 1024")
	}
	if c.IngestMaxInflightBytes != 0 && c.IngestMaxInflightBytes < api.IngestMaxBody {
		// A smaller bound would refuse a full request forever (0: the default).
		errs = append(errs, fmt.Sprintf("--ingest-max-inflight-bytes must be at least %d (one full ingest request)", api.IngestMaxBody))
	}
	if c.IngestBodyStallTimeout < time.Second || c.IngestBodyStallTimeout > readTimeout {
		// Shorter cuts producers on a lossy link; longer than the server's
		// read timeout never applies.
		errs = append(errs, fmt.Sprintf("--ingest-body-stall-timeout must be between 1s and %v", readTimeout))
	}
	if c.IngestMinBodyRate < 0 {
		errs = append(errs, "--ingest-min-body-rate must be 0 (no floor) or more bytes per second")
	}
	if _, err := customdomain.ParseMode(c.CustomDomainCheck); err != nil {
		errs = append(errs, err.Error())
	}
	if _, err := customdomain.ParseServers(c.CustomDomainDNSServers); err != nil {
		errs = append(errs, "--custom-domain-dns-servers: "+err.Error())
	}
	if c.UnauthAuditBurst == 0 {
		errs = append(errs, "--unauth-audit-burst must be at least 1 (or negative: every request audited)")
	}
	if c.UnauthAuditBurst > 0 && (c.UnauthAuditEvery < time.Millisecond || c.UnauthAuditEvery > time.Hour) {
		errs = append(errs, "--unauth-audit-every must be between 1ms and 1h")
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}
