package portal

import (
	"context"
	"hash/fnv"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/content"
	"github.com/sigtrail/sigtrail/internal/httpx"
	"github.com/sigtrail/sigtrail/internal/portal/oidcrp"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/webform"
)

// Config tunes the portal listener. Zero fields take the defaults named on
// each.
type Config struct {
	// TrustedProxies are the peers whose X-Forwarded-For names the client.
	TrustedProxies httpx.TrustedProxies
	// BaseURL returns the origin ("https://portal.example.com") that links
	// in emails start with. Nil: the scheme (https when SecureCookies), the
	// host the request named, and ListenPort unless it is the scheme's
	// default.
	BaseURL func(p store.Portal, requestHost string) string
	// ListenPort is the portal listener's port, for the default BaseURL.
	ListenPort int
	// SecureCookies marks cookies Secure even on plain HTTP requests: set it
	// when a TLS proxy fronts the listener. Requests over TLS always get
	// Secure cookies.
	SecureCookies bool

	Lockout   Lockout   // default DefaultLockout()
	RateLimit RateLimit // per client address, authenticate and register; default DefaultRateLimit()
	Argon2    Argon2Params
	// HashConcurrency bounds simultaneous argon2 computations (each holds
	// Argon2.Memory); default 2 × GOMAXPROCS.
	HashConcurrency int

	SessionTTL time.Duration // access cookie; default 1 hour
	RefreshTTL time.Duration // refresh cookie; default 14 days
	VerifyTTL  time.Duration // emailed verification token; default 24 hours
	ResetTTL   time.Duration // reset-password token; default 1 hour

	// InsecureDestinations lets identity providers be reached over http://
	// and on loopback or private addresses (development only), as it lets
	// audit-log destinations.
	InsecureDestinations bool
}

// Deps are the parts the portal talks to.
type Deps struct {
	Store    store.Store // Portals and Developers
	Recorder store.Recorder
	Mailer   Mailer
	Clock    clock.Clock
	Logger   *slog.Logger
	// Registerer takes the portal's metrics; nil: not exported.
	Registerer prometheus.Registerer
}

func (c Config) withDefaults() Config {
	if c.Lockout.MaxFailures <= 0 {
		c.Lockout = DefaultLockout()
	}
	if c.RateLimit == (RateLimit{}) {
		c.RateLimit = DefaultRateLimit()
	}
	if c.Argon2 == (Argon2Params{}) {
		c.Argon2 = DefaultArgon2()
	}
	if c.HashConcurrency <= 0 {
		c.HashConcurrency = 2 * runtime.GOMAXPROCS(0)
	}
	setDefault(&c.SessionTTL, time.Hour)
	setDefault(&c.RefreshTTL, 14*24*time.Hour)
	setDefault(&c.VerifyTTL, 24*time.Hour)
	setDefault(&c.ResetTTL, time.Hour)
	return c
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d <= 0 {
		*d = v
	}
}

// Body caps: the developer API's bodies are a few short strings.
const maxBody = 16 << 10

// server is one portal listener's handler, shared by every portal.
type server struct {
	cfg   Config
	st    store.Store
	rec   store.Recorder
	mail  Mailer
	clk   clock.Clock
	log   *slog.Logger
	hash  *hasher
	pages map[string]*template.Template
	md    *content.Renderer // portal pages' Markdown
	mux   http.Handler
	met   *metrics
	rp    ssoRP // single sign-on: the OpenID Connect relying party
	// devLocks order one account's attempts within this process, so that
	// concurrent attempts here see each other's failures as sequential ones
	// would; the store's atomic counting is what holds across replicas.
	// The stripe is chosen by portal and email.
	devLocks [64]sync.Mutex
}

// New returns the handler of the portal listener.
func New(cfg Config, deps Deps) http.Handler {
	cfg = cfg.withDefaults()
	s := &server{
		cfg: cfg, st: deps.Store, rec: deps.Recorder, mail: deps.Mailer, clk: deps.Clock, log: deps.Logger,
		hash:  newHasher(cfg.Argon2, cfg.HashConcurrency),
		pages: parsePages(),
		md:    content.NewRenderer(),
	}
	if s.clk == nil {
		s.clk = clock.Real{}
	}
	s.rp = oidcrp.New(cfg.InsecureDestinations, s.clk.Now)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.mail == nil {
		s.mail = LogMailer{Logger: s.log}
	}
	met, err := newMetrics(deps.Registerer)
	if err != nil {
		// Only a clash with another collector's name: serve unexported.
		s.log.Error("portal metrics", "err", err)
		met, _ = newMetrics(nil)
	}
	s.met = met
	s.mux = s.routes()
	return s
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v2/developer", s.apiRegister)
	mux.HandleFunc("POST /api/v2/developer/verify-email", s.apiVerifyEmail)
	mux.HandleFunc("POST /api/v2/developer/reset-password", s.apiResetPassword)
	mux.HandleFunc("POST /api/v2/developer/forgot-password", s.apiForgotPassword)
	mux.HandleFunc("POST /api/v2/developer/authenticate", s.apiAuthenticate)
	mux.HandleFunc("POST /api/v2/developer/logout", s.apiLogout)
	mux.HandleFunc("GET /api/v2/developer/me", s.apiMe)
	mux.HandleFunc("POST /api/v2/developer/refresh", s.apiRefresh)
	mux.HandleFunc("GET "+ssoStartPath, s.ssoStart)
	mux.HandleFunc("GET "+ssoCallbackPath, s.ssoCallback)
	mux.HandleFunc("/api/", s.apiNotFound)

	mux.HandleFunc("GET /{$}", s.pageHome)
	mux.HandleFunc("GET /signup", s.pageSignup)
	mux.HandleFunc("POST /signup", s.pageSignupPost)
	mux.HandleFunc("GET /login", s.pageLogin)
	mux.HandleFunc("POST /login", s.pageLoginForm)
	mux.HandleFunc("GET /profile", s.pageProfile)
	mux.HandleFunc("POST /logout", s.pageLogout)
	mux.HandleFunc("GET /forgot-password", s.pageForgot)
	mux.HandleFunc("POST /forgot-password", s.pageForgotPost)
	mux.HandleFunc("GET /verify-email", s.pageVerify)
	mux.HandleFunc("POST /verify-email", s.pageVerifyPost)
	mux.HandleFunc("GET /reset-password", s.pageReset)
	mux.HandleFunc("POST /reset-password", s.pageResetPost)
	mux.HandleFunc("GET /assets/portal.css", s.assetCSS)
	mux.HandleFunc("GET /assets/theme.css", s.themeCSS)
	mux.HandleFunc("GET /assets/logo", s.serveAsset(store.AssetLogo))
	mux.HandleFunc("GET /assets/favicon", s.serveAsset(store.AssetFavicon))
	mux.HandleFunc("/", s.pageContent) // the portal's content pages; else not found

	// Browsers' Sec-Fetch-Site and Origin headers stop cross-site posts
	// before any handler runs; the form token below is the second line for
	// browsers that send neither.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(s.crossOriginDenied))
	return cop.Handler(mux)
}

// reqInfo is what every handler needs about its request.
type reqInfo struct {
	portal store.Portal
	trace  string
	host   string
}

type reqKey struct{}

func info(r *http.Request) reqInfo { return r.Context().Value(reqKey{}).(reqInfo) }

// ServeHTTP picks the portal by Host and hands the request to the routes.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	webform.SetHSTS(w, s.secure(r))
	host := requestHost(r.Host)
	p, err := s.st.GetPortalByDomain(r.Context(), host)
	if err != nil {
		if !apperr.Is(err, apperr.NotFound) {
			// The store is down: a dependency, not this request, failed.
			s.log.Error("portal lookup", "host", host, "err", err)
			w.Header().Set("Retry-After", "5")
			http.Error(w, "Service Unavailable: try again shortly", http.StatusServiceUnavailable)
			return
		}
		s.noPortal(w, r, host)
		return
	}
	ri := reqInfo{portal: p, trace: httpx.NewTraceID(), host: host}
	h := w.Header()
	h.Set(httpx.TraceHeader, ri.trace)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// Links carry one-time tokens in their query: never leak them onward.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), reqKey{}, ri)))
}

// requestHost lower-cases the Host header and drops its port and any
// trailing dot.
func requestHost(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// baseURL is the origin that emailed links start with.
func (s *server) baseURL(ri reqInfo) string {
	if s.cfg.BaseURL != nil {
		return strings.TrimSuffix(s.cfg.BaseURL(ri.portal, ri.host), "/")
	}
	scheme, defPort := "http", 80
	if s.cfg.SecureCookies {
		scheme, defPort = "https", 443
	}
	host := ri.host
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	if s.cfg.ListenPort != 0 && s.cfg.ListenPort != defPort {
		host += ":" + strconv.Itoa(s.cfg.ListenPort)
	}
	return scheme + "://" + host
}

// lockFor serialises authentication of one (portal, email) in-process.
func (s *server) lockFor(portalID, email string) *sync.Mutex {
	h := fnv.New32a()
	_, _ = h.Write([]byte(portalID))
	_, _ = h.Write([]byte(strings.ToLower(email)))
	return &s.devLocks[h.Sum32()%uint32(len(s.devLocks))]
}
