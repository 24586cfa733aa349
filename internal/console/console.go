package console

import (
	"context"
	"hash/fnv"
	"html/template"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/httpx"
	"github.com/sigtrail/sigtrail/internal/passwd"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/tenancy"
	"github.com/sigtrail/sigtrail/internal/webform"
)

// Config tunes the console. Zero fields take the defaults named on each.
type Config struct {
	// TrustedProxies are the peers whose X-Forwarded-For names the client.
	TrustedProxies httpx.TrustedProxies
	// SecureCookies marks cookies Secure on plain HTTP requests too: set it
	// when a TLS proxy fronts the listener. Requests over TLS always get
	// Secure cookies.
	SecureCookies bool
	// Lockout: default 5 failures within 15 minutes lock for 15 minutes.
	Lockout store.LockoutPolicy
	// RateLimit of log-in attempts per client address (an IPv6 client's
	// /64, see httpx.RateKey); default 10 at once,
	// then one every 6 seconds. Every <= 0 with Burst < 0 turns it off.
	RateLimit       store.RateLimit
	Argon2          passwd.Params // default passwd.Default()
	HashConcurrency int           // default 2 × GOMAXPROCS
	SessionTTL      time.Duration // default 8 hours
}

func (c Config) withDefaults() Config {
	if c.Lockout.MaxFailures <= 0 {
		c.Lockout = store.LockoutPolicy{MaxFailures: 5, Window: 15 * time.Minute, Duration: 15 * time.Minute}
	}
	if c.RateLimit == (store.RateLimit{}) {
		c.RateLimit = store.RateLimit{Every: 6 * time.Second, Burst: 10}
	}
	if c.Argon2 == (passwd.Params{}) {
		c.Argon2 = passwd.Default()
	}
	if c.HashConcurrency <= 0 {
		c.HashConcurrency = 2 * runtime.GOMAXPROCS(0)
	}
	if c.SessionTTL <= 0 {
		c.SessionTTL = 8 * time.Hour
	}
	return c
}

// Deps are the parts the console talks to.
type Deps struct {
	Store    store.Store
	Recorder store.Recorder
	// API is the management API's handler: every page reads and writes
	// through it.
	API http.Handler
	// Keys is the signing keyring (the Keys page); nil: that page says so.
	Keys   Keyring
	Clock  clock.Clock
	Logger *slog.Logger
}

// Handler serves the console.
type Handler struct {
	cfg     Config
	st      store.Store
	rec     store.Recorder
	api     http.Handler
	keys    Keyring
	clk     clock.Clock
	log     *slog.Logger
	hash    *passwd.Hasher
	tenancy *tenancy.Service
	pages   map[string]*template.Template
	mux     http.Handler
	// userLocks order one address's attempts within this process (the
	// store's atomic counting holds across replicas).
	userLocks [64]sync.Mutex

	sysMu  sync.Mutex
	sysOrg string
}

// New returns the console handler.
func New(cfg Config, deps Deps) *Handler {
	cfg = cfg.withDefaults()
	h := &Handler{cfg: cfg, st: deps.Store, rec: deps.Recorder, api: deps.API, keys: deps.Keys, clk: deps.Clock, log: deps.Logger,
		hash: passwd.NewHasher(cfg.Argon2, cfg.HashConcurrency), pages: parsePages()}
	if h.clk == nil {
		h.clk = clock.Real{}
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.rec == nil {
		h.rec = store.LogRecorder{Log: deps.Store}
	}
	h.tenancy = tenancy.New(deps.Store, h.clk)
	h.mux = h.routes()
	return h
}

// consolePaths are the first path segments the console answers on the
// management listener, besides "/" itself; everything else is the API's.
var consolePaths = map[string]bool{"login": true, "logout": true, "assets": true, "destinations": true,
	"webhooks": true, "log": true, "replay": true, "portals": true, "keys": true, "tokens": true, "users": true,
	"set-password": true, "orgs": true}

// Mount returns the management listener's handler: the console's pages at
// their paths, the API everywhere else.
func (h *Handler) Mount(api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// An empty first segment is the console's only as "/" itself:
		// "//v3/portals" is an API path written badly, the API's to answer.
		first, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if r.URL.Path == "/" || consolePaths[first] {
			h.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

type reqKey struct{}

// reqInfo is what every handler needs about its request.
type reqInfo struct {
	trace string
	// orgs is how many orgs the logged-in person may enter (withUser);
	// with more than one, pages name the current org and offer to switch.
	orgs    int
	orgName string
}

func info(r *http.Request) reqInfo {
	ri, _ := r.Context().Value(reqKey{}).(reqInfo)
	return ri
}

// ServeHTTP answers one console request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ri := reqInfo{trace: httpx.NewTraceID()}
	hd := w.Header()
	hd.Set(httpx.TraceHeader, ri.trace)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	webform.SetHSTS(w, h.secure(r))
	if !strings.HasPrefix(r.URL.Path, "/assets/") {
		hd.Set("Cache-Control", "no-store")
	}
	h.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), reqKey{}, ri)))
}

// secure reports whether the answer goes out over https (TLS here, or a
// TLS proxy the operator named): cookies are then Secure and the answer
// carries Strict-Transport-Security.
func (h *Handler) secure(r *http.Request) bool { return r.TLS != nil || h.cfg.SecureCookies }

// lockFor serialises one address's log-in attempts in this process.
func (h *Handler) lockFor(email string) *sync.Mutex {
	f := fnv.New32a()
	_, _ = f.Write([]byte(strings.ToLower(email)))
	return &h.userLocks[f.Sum32()%uint32(len(h.userLocks))]
}

// systemOrgID is the reserved org that records log-ins of no known user,
// as the API records unknown tokens.
func (h *Handler) systemOrgID(ctx context.Context) (string, error) {
	h.sysMu.Lock()
	defer h.sysMu.Unlock()
	if h.sysOrg != "" {
		return h.sysOrg, nil
	}
	o, err := h.tenancy.SystemOrg(ctx)
	if err != nil {
		return "", err
	}
	h.sysOrg = o.ID
	return o.ID, nil
}
