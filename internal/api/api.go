package api

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/httpx"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/tenancy"
	"github.com/sigtrail/sigtrail/internal/tlog"
)

// Config is what an operator sets.
type Config struct {
	// InsecureDestinations allows http:// and loopback or private endpoints
	// (development only).
	InsecureDestinations bool
	// PortalDomainSuffix makes default portal domains: a portal named "acme"
	// gets "acme.<suffix>". Default "localhost".
	PortalDomainSuffix string
	// CustomDomainsUnchecked is --custom-domain-check none: a claimed
	// custom domain is verified at once, and a name another portal has is
	// refused (for a single tenant, where that tells no one anything).
	CustomDomainsUnchecked bool
	// TrustedProxies are the peers whose X-Forwarded-For names the client.
	TrustedProxies httpx.TrustedProxies
	// MaxBodyBytes caps JSON request bodies. Default httpx.DefaultMaxBody.
	MaxBodyBytes int64
	// Retention is how far back replay jobs and the pull API may reach.
	// Default DefaultRetention.
	Retention time.Duration
	// IngestMaxInflightBytes bounds the ingest request bodies held at once
	// across all requests; past it an ingest is refused with a 503.
	// Default DefaultIngestMaxInflightBytes.
	IngestMaxInflightBytes int64
	// IngestBodyStallTimeout is the longest an ingest body may pause; past
	// it the request is cut with a 408 (ingestpace.go). Default
	// DefaultIngestBodyStallTimeout.
	IngestBodyStallTimeout time.Duration
	// IngestMinBodyRate is the average, in bytes per second, an ingest
	// body must keep after a short grace; below it the request is cut with
	// a 408. Default DefaultIngestMinBodyRate; negative: no floor.
	IngestMinBodyRate int64
	// IngestBodyGrace is how long an ingest body may take before the
	// minimum rate counts. Default DefaultIngestBodyGrace.
	IngestBodyGrace time.Duration
	// UnauthAuditBudget bounds, per client, the audit entries of requests
	// that carry no valid credentials (unauthbudget.go); it changes no
	// answer. The zero value means the defaults; a negative Burst turns
	// the budget off.
	UnauthAuditBudget UnauthAuditBudget
	// UnauthReportEvery is how often the requests past the budget are
	// reported, one entry per client, log and principal. Default
	// DefaultUnauthReportEvery.
	UnauthReportEvery time.Duration
}

// DefaultRetention is Konnect's window: 7 days.
const DefaultRetention = 7 * 24 * time.Hour

// JWKS publishes the public signing keys.
type JWKS interface{ JWKS() []byte }

// WebhookNotifier is told after a webhook's configuration or destination
// changed, so delivery picks the change up at once. RecheckWebhook is for
// a change that should leave delivery as it was (a destination's rename):
// delivery reads the webhook again and restarts it only if what it sends
// with differs from the store (a concurrent change can make it so), and
// otherwise stops no request in flight.
type WebhookNotifier interface {
	WebhookChanged(store.StreamID)
	RecheckWebhook(store.StreamID)
}

// ReplayNotifier is told after a replay job was stored, so the runner
// starts it.
type ReplayNotifier interface{ JobChanged(store.StreamID) }

// Deps are the parts the API talks to.
type Deps struct {
	Store    store.Store
	Recorder store.Recorder
	JWKS     JWKS
	Webhooks WebhookNotifier
	Clock    clock.Clock
	Logger   *slog.Logger
	Metrics  http.Handler // may be nil: /metrics answers 404
	// Registerer takes the API's own series (ingest cut for slowness);
	// nil: they are counted but not exported.
	Registerer prometheus.Registerer

	// For the replay, pull and ingest groups.
	Signer   audit.Signer   // signs entries the pull API returns
	Renderer audit.Renderer // renders them
	Replays  ReplayNotifier

	// For the transparency log routes (checkpoints.go). Tree defaults to
	// one over Store; NoteSigner to Signer when it can name its key
	// (signing.Keyring can).
	Tree       *tlog.Tree
	NoteSigner tlog.KeySigner

	// CustomDomains checks a custom domain when it is set or updated; nil:
	// claims wait for the background checks.
	CustomDomains CustomDomainChecker
}

// server holds the API's dependencies; route groups are its methods.
type server struct {
	cfg     Config
	st      store.Store
	rec     store.Recorder
	jwks    JWKS
	hooks   WebhookNotifier
	clk     clock.Clock
	log     *slog.Logger
	metrics http.Handler
	tenancy *tenancy.Service

	signer   audit.Signer
	renderer audit.Renderer
	replays  ReplayNotifier

	tree       *tlog.Tree
	noteSigner tlog.KeySigner
	domains    CustomDomainChecker

	ingestBudget *ingestBudget
	unauth       *unauthBudget          // nil: every unauthenticated request is audited
	wall         clock.Clock            // socket deadlines are wall-clock times (ingestpace.go)
	ingestSlow   *prometheus.CounterVec // sigtrail_ingest_too_slow_total

	mux   *http.ServeMux
	paths *http.ServeMux      // every route's path without its method, to tell 405 from 404
	allow map[string][]string // path pattern -> methods, for the Allow header

	uncleanPath http.Handler // a 404 for paths ServeMux would redirect

	sysMu  sync.Mutex
	sysOrg string // the reserved system org's ID, once known
}

// Handler is the management API: requests, and the background work Run
// does while it serves.
type Handler interface {
	http.Handler
	// Run reports, once a period and when ctx ends, the requests without
	// valid credentials left unaudited past their client's audit budget
	// (unauthbudget.go). It returns ctx's error.
	Run(ctx context.Context) error
}

// New returns the management API handler.
func New(cfg Config, deps Deps) Handler {
	if cfg.PortalDomainSuffix == "" {
		cfg.PortalDomainSuffix = "localhost"
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = httpx.DefaultMaxBody
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.IngestMaxInflightBytes <= 0 {
		cfg.IngestMaxInflightBytes = DefaultIngestMaxInflightBytes
	}
	if cfg.IngestBodyStallTimeout <= 0 {
		cfg.IngestBodyStallTimeout = DefaultIngestBodyStallTimeout
	}
	if cfg.IngestBodyGrace <= 0 {
		cfg.IngestBodyGrace = DefaultIngestBodyGrace
	}
	if cfg.IngestMinBodyRate == 0 {
		cfg.IngestMinBodyRate = DefaultIngestMinBodyRate
	}
	if deps.Clock == nil {
		deps.Clock = clock.Real{}
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Recorder == nil && deps.Store != nil {
		deps.Recorder = store.LogRecorder{Log: deps.Store}
	}
	s := &server{
		cfg: cfg, st: deps.Store, rec: deps.Recorder, jwks: deps.JWKS, hooks: deps.Webhooks,
		clk: deps.Clock, log: deps.Logger, metrics: deps.Metrics,
		signer: deps.Signer, renderer: deps.Renderer, replays: deps.Replays,
		tenancy:      tenancy.NewCached(deps.Store, deps.Clock, tenancy.TokenCacheTTL),
		ingestBudget: newIngestBudget(cfg.IngestMaxInflightBytes),
		mux:          http.NewServeMux(), paths: http.NewServeMux(), allow: map[string][]string{},
	}
	if deps.Store != nil {
		s.unauth = newUnauthBudget(cfg.UnauthAuditBudget, cfg.UnauthReportEvery, deps.Store, deps.Recorder, deps.Clock, deps.Logger, deps.Registerer)
	}
	s.wall = clock.Real{}
	s.ingestSlow = newIngestSlowCounter(deps.Registerer)
	s.tree, s.noteSigner, s.domains = deps.Tree, deps.NoteSigner, deps.CustomDomains
	if s.tree == nil && deps.Store != nil {
		s.tree = tlog.NewTree(deps.Store)
	}
	if ks, ok := deps.Signer.(tlog.KeySigner); ok && s.noteSigner == nil {
		s.noteSigner = ks
	}
	s.register(s.routes())
	return s
}

// Run implements Handler.
func (s *server) Run(ctx context.Context) error {
	if s.unauth == nil {
		<-ctx.Done()
		return ctx.Err()
	}
	return s.unauth.run(ctx)
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !cleanPath(r.URL.Path) {
		// ServeMux would answer a redirect with an HTML body; an API
		// client wants a problem, and "/v3/portals//x" names nothing.
		s.uncleanPath.ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// webhookChanged tells delivery about a stored change.
func (s *server) webhookChanged(stream store.StreamID) {
	if s.hooks != nil {
		s.hooks.WebhookChanged(stream)
	}
}

// recheckWebhook tells delivery about a stored change that leaves its
// sending as it was.
func (s *server) recheckWebhook(stream store.StreamID) {
	if s.hooks != nil {
		s.hooks.RecheckWebhook(stream)
	}
}

// systemOrgID returns the reserved org that records requests of no org.
func (s *server) systemOrgID(ctx context.Context) (string, error) {
	s.sysMu.Lock()
	defer s.sysMu.Unlock()
	if s.sysOrg != "" {
		return s.sysOrg, nil
	}
	o, err := s.tenancy.SystemOrg(ctx)
	if err != nil {
		return "", err
	}
	s.sysOrg = o.ID
	return o.ID, nil
}
