package api

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/httpx"
	"github.com/sigtrail/sigtrail/internal/store"
)

// Requests that carry no valid credentials (no token, an unknown or expired
// one) are audited, so without a limit anyone who can reach the API could
// make it append entries, durably and delivered, as fast as they can send.
// They are counted per client (an address, an IPv6 client's /64: see
// httpx.RateKey) in a token bucket in the store, so the limit holds
// whichever replica answers. Past it a request is answered 429 with
// Retry-After and not audited; instead, once a report period, one access
// entry per client and log says how many were refused (report). Requests
// with valid credentials never meet the limiter.

// UnauthRateLimit is the bucket of unauthenticated requests per client:
// Burst at once, then one every Every. The zero value means the defaults;
// a negative Burst turns the limit off.
type UnauthRateLimit struct {
	Every time.Duration
	Burst int
}

// Defaults of UnauthRateLimit: 30 at once, then one every 2 seconds (30 a
// minute). A script with a wrong token, or a browser without one, stays
// well inside; each allowed request costs two small entries.
const (
	DefaultUnauthRateEvery = 2 * time.Second
	DefaultUnauthRateBurst = 30
	// DefaultUnauthReportEvery is the report period: at most one entry per
	// client, log and period (and replica) records the refused requests.
	DefaultUnauthReportEvery = time.Minute
	// maxUnauthClients bounds the clients remembered between reports;
	// beyond it refusals are counted per log under one "other" client.
	maxUnauthClients = 10000
)

// rateKeyUnauth prefixes the store's bucket keys.
const rateKeyUnauth = "api/unauthenticated/"

// unauthLimiter applies UnauthRateLimit and reports what it refused.
type unauthLimiter struct {
	limit  store.RateLimit
	every  time.Duration
	st     store.RateLimits
	rec    store.Recorder
	clk    clock.Clock
	log    *slog.Logger
	metric prometheus.Counter // sigtrail_api_unauthenticated_refused_total
	// maxClients is maxUnauthClients (tests lower it).
	maxClients int

	mu      sync.Mutex
	clients map[unauthKey]*unauthClient
}

// unauthKey is one client of one log: refusals are reported to the log the
// request would have been audited in (the expired token's org, else _system).
type unauthKey struct {
	stream   store.StreamID
	client   string // httpx.RateKey of the address
	overflow bool   // the log's clients past maxClients, together
}

// unauthClient is what is known of a client between two reports.
type unauthClient struct {
	// until: the store's bucket is empty until then, so requests before it
	// are refused here without asking the store (a bucket never refills
	// sooner, whatever other replicas do).
	until time.Time
	// refused since the last report, and the first of them.
	refused int
	since   time.Time
	first   audit.Entry
}

func newUnauthLimiter(l UnauthRateLimit, every time.Duration, st store.RateLimits, rec store.Recorder, clk clock.Clock, log *slog.Logger, reg prometheus.Registerer) *unauthLimiter {
	if l.Burst == 0 && l.Every == 0 {
		l = UnauthRateLimit{Every: DefaultUnauthRateEvery, Burst: DefaultUnauthRateBurst}
	}
	if l.Burst < 0 || l.Every <= 0 || st == nil {
		return nil // off
	}
	if every <= 0 {
		every = DefaultUnauthReportEvery
	}
	return &unauthLimiter{
		limit: store.RateLimit{Every: l.Every, Burst: l.Burst}, every: every,
		st: st, rec: rec, clk: clk, log: log, metric: newUnauthRefusedCounter(reg),
		clients: map[unauthKey]*unauthClient{}, maxClients: maxUnauthClients,
	}
}

// admit takes a token of the client's bucket for c, an audited request
// without valid credentials. It returns false and the wait when the
// client is over the limit; the refusal is counted for the report.
func (l *unauthLimiter) admit(ctx context.Context, c *call) (bool, time.Duration, error) {
	now := l.clk.Now()
	k := unauthKey{stream: store.StreamID(c.auditOrg), client: httpx.RateKey(c.src)}
	l.mu.Lock()
	if cl := l.clients[k]; cl != nil && cl.until.After(now) {
		wait := cl.until.Sub(now)
		l.refuse(cl, c, now, wait)
		l.mu.Unlock()
		return false, wait, nil
	}
	l.mu.Unlock()
	ok, wait, err := l.st.TakeRateToken(ctx, rateKeyUnauth+k.client, now, l.limit)
	if err != nil || ok {
		return ok, 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	cl := l.clients[k]
	if cl == nil {
		if len(l.clients) >= l.maxClients {
			// Too many clients to remember each: count this one with the
			// log's others. It asks the store every time (a read once the
			// bucket is empty), as nothing local says when it refills.
			k = unauthKey{stream: k.stream, overflow: true}
			if cl = l.clients[k]; cl == nil {
				cl = &unauthClient{}
				l.clients[k] = cl
			}
			l.refuse(cl, c, now, wait)
			return false, wait, nil
		}
		cl = &unauthClient{}
		l.clients[k] = cl
	}
	cl.until = now.Add(wait)
	l.refuse(cl, c, now, wait)
	return false, wait, nil
}

// refuse counts a refused request; the first of a period is kept (its
// client text capped) to be named in the report, and logged.
func (l *unauthLimiter) refuse(cl *unauthClient, c *call, now time.Time, wait time.Duration) {
	l.metric.Inc()
	cl.refused++
	if cl.refused > 1 {
		return
	}
	cl.since = now
	cl.first = audit.Entry{Src: c.src, TraceID: c.traceID, UserAgent: c.r.UserAgent(), Request: c.r.URL.Path, Act: c.r.Method}
	cl.first.CapClientText()
	l.log.Warn("api: unauthenticated requests rate limited; refusals are counted and reported once a period",
		"client", c.src, "org_id", c.auditOrg, "trace_id", c.traceID, "retry_in", wait.String())
}

// report appends one entry per client and log that had requests refused
// since the last report, in one append, and forgets clients whose bucket
// may have refilled.
func (l *unauthLimiter) report(ctx context.Context) error {
	now := l.clk.Now()
	var entries []store.NewEntry
	total := 0
	l.mu.Lock()
	for k, cl := range l.clients {
		if cl.refused > 0 {
			entries = append(entries, store.NewEntry{Stream: k.stream, Entry: cl.reportEntry(k, now)})
			total += cl.refused
			cl.refused = 0
		}
		if !cl.until.After(now) {
			delete(l.clients, k)
		}
	}
	l.mu.Unlock()
	if len(entries) == 0 {
		return nil
	}
	slices.SortFunc(entries, func(a, b store.NewEntry) int {
		return cmp.Or(cmp.Compare(a.Stream, b.Stream), cmp.Compare(a.Entry.Query, b.Entry.Query))
	})
	if _, err := l.rec.Record(ctx, entries); err != nil {
		l.log.Error("api: audit log unavailable; report of rate-limited requests lost", "entries", len(entries), "refused", total, "err", err)
		return err
	}
	return nil
}

// reportEntry is the record of a client's refused requests: an access
// entry with status 429 and kong_initiated=true (sigtrail wrote it, no
// request did, and no client can set that field), naming the first
// refused request (its address, method, path, user agent and trace id,
// which its 429 answer carried) and, in query, how many were refused
// since when: refused=N&client=K&since=T, K the rate key (an address, an
// IPv6 /64, or "other" past maxUnauthClients), T RFC 3339 UTC.
func (cl *unauthClient) reportEntry(k unauthKey, now time.Time) audit.Entry {
	client := k.client
	if k.overflow {
		client = "other"
	}
	e := cl.first
	e.Kind = audit.KindAccess
	e.Time = now.UTC()
	e.Product = audit.ProductKonnect
	e.ClassID = audit.AccessClassGateway
	e.Name = audit.AccessName
	e.OrgID = string(k.stream)
	e.KongInitiated = true
	e.Status = 429
	e.Query = "refused=" + strconv.Itoa(cl.refused) + "&client=" + client + "&since=" + cl.since.UTC().Format(time.RFC3339)
	return e
}

// run reports once a period until ctx ends, then once more.
func (l *unauthLimiter) run(ctx context.Context) error {
	for {
		t := l.clk.NewTimer(l.every)
		select {
		case <-ctx.Done():
			t.Stop()
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			_ = l.report(final)
			cancel()
			return ctx.Err()
		case <-t.C():
			_ = l.report(ctx)
		}
	}
}

// limitUnauthenticated applies the limit to c, an audited request without
// valid credentials, and reports whether it answered (429, or 503 when the
// store cannot count: a limit must not open when it cannot).
func (s *server) limitUnauthenticated(c *call) bool {
	if s.unauth == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx()), 30*time.Second)
	defer cancel()
	ok, wait, err := s.unauth.admit(ctx, c)
	switch {
	case err != nil:
		s.log.Error("rate limit unavailable; unauthenticated request refused", "trace_id", c.traceID, "err", err)
		c.fail(apperr.New(apperr.Unavailable, "The service is unavailable; try again later"))
		return true
	case ok:
		return false
	}
	c.pending = c.pending[:0] // not audited: counted for the report
	c.w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(max(wait, time.Second).Seconds()))))
	c.fail(apperr.New(apperr.RateLimited, "Too many requests without valid credentials from this address; try again later"))
	return true
}

func newUnauthRefusedCounter(r prometheus.Registerer) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sigtrail_api_unauthenticated_refused_total",
		Help: "Management API requests without valid credentials refused with 429 by the per-client limit (not audited one by one; reported once a period).",
	})
	if r == nil {
		return c
	}
	if err := r.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(prometheus.Counter); ok {
				return existing
			}
		}
	}
	return c
}
