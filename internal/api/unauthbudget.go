package api

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/httpx"
	"github.com/sigtrail/sigtrail/internal/store"
)

// Requests that carry no valid credentials (no token, an unknown or expired
// one) are audited, so without a bound anyone who can reach the API could
// make it append entries, durably and delivered, as fast as they can send.
// Their audit entries are budgeted per client (an address, an IPv6
// client's /64: see httpx.RateKey) by a token bucket in the store, so the
// budget holds whichever replica answers. Past it a request is answered
// exactly as it would be otherwise (401, 404, ...: no client sees the
// budget, so a client with an expired token behind a shared proxy address
// still learns that its token expired) but not audited one by one;
// instead, once a report period, one access entry per client, log and
// principal says how many were not (report). Requests with valid
// credentials never meet the budget.

// UnauthAuditBudget is the per-client budget of audited requests without
// valid credentials: Burst at once, then one every Every. The zero value
// means the defaults; a negative Burst turns the budget off (every
// request is audited).
type UnauthAuditBudget struct {
	Every time.Duration
	Burst int
}

// Defaults of UnauthAuditBudget: 30 at once, then one every 2 seconds (30
// a minute). A script with a wrong token, or a browser without one, stays
// well inside; each audited request costs two small entries.
const (
	DefaultUnauthAuditEvery = 2 * time.Second
	DefaultUnauthAuditBurst = 30
	// DefaultUnauthReportEvery is the report period: at most one entry per
	// client, log, principal and period (and replica) records the requests
	// past the budget.
	DefaultUnauthReportEvery = time.Minute
	// maxUnauthClients bounds the clients remembered between reports;
	// beyond it requests past the budget are counted per log under one
	// "other" client.
	maxUnauthClients = 10000
)

// rateKeyUnauth prefixes the store's bucket keys.
const rateKeyUnauth = "api/unauthenticated/"

// unauthBudget applies UnauthAuditBudget and reports what it left
// unaudited.
type unauthBudget struct {
	limit  store.RateLimit
	every  time.Duration
	st     store.RateLimits
	rec    store.Recorder
	clk    clock.Clock
	log    *slog.Logger
	metric prometheus.Counter // sigtrail_api_unauthenticated_unaudited_total
	// maxClients is maxUnauthClients (tests lower it).
	maxClients int

	mu      sync.Mutex
	clients map[unauthKey]*unauthClient
}

// unauthKey is one client of one log, and the principal its requests
// named: unaudited requests are reported to the log the request would
// have been audited in (the expired token's org, else _system), one
// report per token, so that an org can tell which of its tokens is in use.
type unauthKey struct {
	stream    store.StreamID
	client    string // httpx.RateKey of the address
	principal string // the expired token's id; "" without one
	overflow  bool   // the log's clients past maxClients, together
}

// unauthClient is what is known of a client between two reports.
type unauthClient struct {
	// until: the store's bucket is empty until then, so requests before it
	// are left unaudited without asking the store (a bucket never refills
	// sooner, whatever other replicas do).
	until time.Time
	// unaudited requests since the last report, and the first of them.
	unaudited int
	since     time.Time
	first     audit.Entry
}

func newUnauthBudget(l UnauthAuditBudget, every time.Duration, st store.RateLimits, rec store.Recorder, clk clock.Clock, log *slog.Logger, reg prometheus.Registerer) *unauthBudget {
	if l.Burst == 0 && l.Every == 0 {
		l = UnauthAuditBudget{Every: DefaultUnauthAuditEvery, Burst: DefaultUnauthAuditBurst}
	}
	if l.Burst < 0 || l.Every <= 0 || st == nil {
		return nil // off
	}
	if every <= 0 {
		every = DefaultUnauthReportEvery
	}
	return &unauthBudget{
		limit: store.RateLimit{Every: l.Every, Burst: l.Burst}, every: every,
		st: st, rec: rec, clk: clk, log: log, metric: newUnauthUnauditedCounter(reg),
		clients: map[unauthKey]*unauthClient{}, maxClients: maxUnauthClients,
	}
}

// take takes a token of the client's bucket for c, a request without
// valid credentials answered status. It returns false when the client is
// past its budget: c is then not to be audited, and is counted for the
// report instead.
func (l *unauthBudget) take(ctx context.Context, c *call, status int) (bool, error) {
	now := l.clk.Now()
	k := unauthKey{stream: store.StreamID(c.auditOrg), client: httpx.RateKey(c.src), principal: c.token.ID}
	l.mu.Lock()
	if cl := l.clients[k]; cl != nil && cl.until.After(now) {
		l.count(cl, c, status, now)
		l.mu.Unlock()
		return false, nil
	}
	l.mu.Unlock()
	ok, wait, err := l.st.TakeRateToken(ctx, rateKeyUnauth+k.client, now, l.limit)
	if err != nil || ok {
		return ok, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	cl := l.clients[k]
	if cl == nil {
		if len(l.clients) >= l.maxClients {
			// Too many clients to remember each: count this one with the
			// log's others. Nothing local says when its bucket refills, so
			// each of its requests asks the store again (TakeRateToken: a
			// write transaction on PostgreSQL, however empty the bucket).
			k = unauthKey{stream: k.stream, overflow: true}
			if cl = l.clients[k]; cl == nil {
				cl = &unauthClient{}
				l.clients[k] = cl
			}
			l.count(cl, c, status, now)
			return false, nil
		}
		cl = &unauthClient{}
		l.clients[k] = cl
	}
	cl.until = now.Add(wait)
	l.count(cl, c, status, now)
	return false, nil
}

// count counts an unaudited request; the first of a period is kept (its
// client text capped) to be named in the report, and logged.
func (l *unauthBudget) count(cl *unauthClient, c *call, status int, now time.Time) {
	l.metric.Inc()
	cl.unaudited++
	if cl.unaudited > 1 {
		return
	}
	cl.since = now
	cl.first = audit.Entry{
		Src: c.src, TraceID: c.traceID, UserAgent: c.r.UserAgent(), Request: c.r.URL.Path, Act: c.r.Method, Status: status,
		PrincipalID: c.token.ID, PrincipalName: c.token.Name,
	}
	cl.first.CapClientText()
	l.log.Warn("api: client past its audit budget for unauthenticated requests; answered as usual, counted and reported once a period instead of audited one by one",
		"client", c.src, "org_id", c.auditOrg, "principal_id", c.token.ID, "trace_id", c.traceID, "status", status)
}

// report appends one entry per client, log and principal that had
// requests left unaudited since the last report, in one append, and
// forgets clients whose bucket may have refilled.
func (l *unauthBudget) report(ctx context.Context) error {
	now := l.clk.Now()
	var entries []store.NewEntry
	total := 0
	l.mu.Lock()
	for k, cl := range l.clients {
		if cl.unaudited > 0 {
			entries = append(entries, store.NewEntry{Stream: k.stream, Entry: cl.reportEntry(k, now)})
			total += cl.unaudited
			cl.unaudited = 0
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
		return cmp.Or(cmp.Compare(a.Stream, b.Stream), cmp.Compare(a.Entry.Query, b.Entry.Query), cmp.Compare(a.Entry.PrincipalID, b.Entry.PrincipalID))
	})
	if _, err := l.rec.Record(ctx, entries); err != nil {
		l.log.Error("api: audit log unavailable; report of unaudited unauthenticated requests lost", "entries", len(entries), "unaudited", total, "err", err)
		return err
	}
	return nil
}

// reportEntry is the record of a client's unaudited requests: an access
// entry with kong_initiated=true (sigtrail wrote it, no request did, and
// no client can set that field) that names the first of them (its
// address, method, path, status, user agent, trace id and, for an expired
// token, the token as principal, as its own entry would have) and, in
// query, how many there were since when: unaudited=N&client=K&since=T, K
// the rate key (an address, an IPv6 /64, or "other" past
// maxUnauthClients), T RFC 3339 UTC.
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
	e.Query = "unaudited=" + strconv.Itoa(cl.unaudited) + "&client=" + client + "&since=" + cl.since.UTC().Format(time.RFC3339)
	return e
}

// run reports once a period until ctx ends, then once more.
func (l *unauthBudget) run(ctx context.Context) error {
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

// auditUnauthenticated reports whether c, a request without valid
// credentials answered status, is to be audited: it is unless its client
// is past its budget. When the store cannot count, it is audited (an
// entry too many rather than one missing; and no answer changes).
func (s *server) auditUnauthenticated(c *call, status int) bool {
	if s.unauth == nil {
		return true
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx()), 30*time.Second)
	defer cancel()
	ok, err := s.unauth.take(ctx, c, status)
	if err != nil {
		s.log.Error("api: audit budget of unauthenticated requests unavailable; request audited", "trace_id", c.traceID, "err", err)
		return true
	}
	return ok
}

func newUnauthUnauditedCounter(r prometheus.Registerer) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sigtrail_api_unauthenticated_unaudited_total",
		Help: "Management API requests without valid credentials past their client's audit budget: answered as usual, not audited one by one but reported once a period.",
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
