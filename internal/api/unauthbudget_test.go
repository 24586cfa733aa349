package api

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/tenancy"
)

// startReports runs the API's background work (the reports of unaudited
// requests) until the test ends, and returns a function that ends it
// early, waiting for its final report.
func startReports(t *testing.T, h *harness) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	created := h.clk.TimerCreated()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = h.api.Run(ctx)
	}()
	<-created // its first period has begun
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// nextReport moves the clock one report period on and waits until the
// report is written (the next period's timer is made after it).
func nextReport(h *harness, period time.Duration) {
	created := h.clk.TimerCreated()
	h.clk.Advance(period)
	<-created
}

// reports returns a stream's reports of unaudited requests.
func reports(h *harness, stream string) []audit.Entry {
	var out []audit.Entry
	for _, e := range h.entries(stream) {
		if e.Entry.Kind == audit.KindAccess && e.Entry.KongInitiated && strings.HasPrefix(e.Entry.Query, "unaudited=") {
			out = append(out, e.Entry)
		}
	}
	return out
}

func from(addr string) map[string]string { return map[string]string{"X-Forwarded-For": addr} }

func trustLocal(t *testing.T) Config {
	t.Helper()
	proxies, err := httpxTrusted("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return Config{TrustedProxies: proxies, UnauthAuditBudget: UnauthAuditBudget{Every: time.Second, Burst: 3}, UnauthReportEvery: time.Minute}
}

// sameAnswer fails unless got is want but for the trace id (and so the
// length) and the date: the same status, headers and body.
func sameAnswer(t *testing.T, name string, got, want *response) {
	t.Helper()
	norm := func(r *response) (http.Header, string) {
		hdr := r.Header.Clone()
		trace := hdr.Get("X-Sigtrail-Trace-Id")
		hdr.Del("X-Sigtrail-Trace-Id")
		hdr.Del("Date")
		hdr.Del("Content-Length")
		return hdr, strings.ReplaceAll(string(r.Body), trace, "TRACE")
	}
	gh, gb := norm(got)
	wh, wb := norm(want)
	if got.Status != want.Status || !reflect.DeepEqual(gh, wh) || gb != wb {
		t.Errorf("%s: past the budget answered %d %v %s, want as within it: %d %v %s", name, got.Status, gh, gb, want.Status, wh, wb)
	}
}

// TestUnauthenticatedAuditIsBudgetedPerClient: requests without valid
// credentials are audited within a budget per client address (an IPv6
// client's /64); past it they are answered exactly as within it (401,
// 404, 405: no 429, no Retry-After) but not audited, and one entry per
// client, log and principal reports them once a period, naming an expired
// token as principal. Valid tokens, ingest included, never meet the
// budget, even from an address past it.
func TestUnauthenticatedAuditIsBudgetedPerClient(t *testing.T) {
	t.Parallel()
	h := newHarness(t, trustLocal(t))
	org, admin := h.org("o")
	producer := h.token(org, store.RoleProducer, false, 0)
	expired := h.token(org, store.RoleReadOnly, false, time.Hour)
	h.clk.Advance(2 * time.Hour)
	expiredTok, err := h.ten.Authenticate(t.Context(), expired)
	if expiredTok.ID == "" || !errors.Is(err, tenancy.ErrTokenExpired) {
		t.Fatalf("expired token: %+v, %v", expiredTok, err)
	}
	sys, err := h.ten.SystemOrg(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	startReports(t, h)
	const a = "203.0.113.7"

	// The burst: audited as ever.
	for range 3 {
		h.callWith(http.MethodGet, "/v3/portals", "", nil, from(a)).expect(t, http.StatusUnauthorized)
	}

	// Past it: the same answer as within a budget (another address's),
	// nothing appended, whatever the failure.
	cases := []struct {
		name, method, path, secret string
		status                     int
	}{
		{"no token", http.MethodGet, "/v3/portals?x=1", "", http.StatusUnauthorized},
		{"unknown token", http.MethodGet, "/v3/portals", tenancy.PATPrefix + "unknown", http.StatusUnauthorized},
		{"unknown path", http.MethodGet, "/no-such-route", "", http.StatusNotFound},
		{"method not allowed", http.MethodDelete, "/v3/portals", "", http.StatusMethodNotAllowed},
		{"another operation", http.MethodGet, "/v3/audit-log-destinations", "", http.StatusUnauthorized},
		{"expired token", http.MethodGet, "/v3/portals", expired, http.StatusUnauthorized}, // its org's log
	}
	usual := make([]*response, len(cases))
	for i, tc := range cases {
		usual[i] = h.callWith(tc.method, tc.path, tc.secret, nil, from("198.51.100."+strconv.Itoa(i+1))).expect(t, tc.status)
	}
	sysBefore, orgBefore := len(h.entries(sys.ID)), len(h.entries(org))
	var firstTrace string
	for i, tc := range cases {
		res := h.callWith(tc.method, tc.path, tc.secret, nil, from(a)).expect(t, tc.status)
		sameAnswer(t, tc.name, res, usual[i])
		if i == 0 {
			firstTrace = res.Header.Get("X-Sigtrail-Trace-Id")
		}
	}
	if n, m := len(h.entries(sys.ID)), len(h.entries(org)); n != sysBefore || m != orgBefore {
		t.Fatalf("requests past the budget appended entries: system log %d -> %d, org log %d -> %d", sysBefore, n, orgBefore, m)
	}

	// Valid credentials from the same address: served and audited.
	h.callWith(http.MethodGet, "/v3/portals", admin, nil, from(a)).expect(t, http.StatusOK)
	h.callWith(http.MethodPost, "/v1/entries", producer, ingestLine("in-1")+"\n", map[string]string{"X-Forwarded-For": a, "Content-Type": "application/x-ndjson"}).expect(t, http.StatusAccepted)
	if m := len(h.entries(org)); m <= orgBefore {
		t.Fatalf("valid requests from %s were not audited", a)
	}

	// Another address has its own budget; an IPv6 /64 has one budget.
	h.callWith(http.MethodGet, "/v3/portals", "", nil, from("203.0.113.8")).expect(t, http.StatusUnauthorized)
	for i := range 4 {
		h.callWith(http.MethodGet, "/v3/portals", "", nil, from("2001:db8:1:2::"+string(rune('1'+i)))).expect(t, http.StatusUnauthorized)
	}
	h.callWith(http.MethodGet, "/v3/portals", "", nil, from("2001:db8:1:3::1")).expect(t, http.StatusUnauthorized)

	if r := reports(h, sys.ID); len(r) != 0 {
		t.Fatalf("reported before the period ended: %v", r)
	}
	start := h.clk.Now().UTC()
	nextReport(h, time.Minute)
	want := map[string]struct {
		stream, query, src, principal string
	}{
		a + " system": {sys.ID, "unaudited=5&client=" + a + "&since=" + start.Format(time.RFC3339), a, ""},
		a + " org":    {org, "unaudited=1&client=" + a + "&since=" + start.Format(time.RFC3339), a, expiredTok.ID},
		"ipv6":        {sys.ID, "unaudited=1&client=2001:db8:1:2::/64&since=" + start.Format(time.RFC3339), "2001:db8:1:2::4", ""},
	}
	got := map[string]audit.Entry{}
	for _, e := range reports(h, sys.ID) {
		if e.Src == a {
			got[a+" system"] = e
		} else {
			got["ipv6"] = e
		}
	}
	for _, e := range reports(h, org) {
		got[a+" org"] = e
	}
	if len(got) != len(want) || len(reports(h, sys.ID))+len(reports(h, org)) != 3 {
		t.Fatalf("reports %+v, want one per client and log: %v", got, want)
	}
	for name, w := range want {
		e := got[name]
		if e.Query != w.query || e.Src != w.src || e.OrgID != w.stream || e.PrincipalID != w.principal || e.Act != http.MethodGet ||
			e.Name != audit.AccessName || e.Status != http.StatusUnauthorized {
			t.Errorf("%s: report %+v, want query %q, src %q, org %q, principal %q, status 401", name, e, w.query, w.src, w.stream, w.principal)
		}
	}
	if e := got[a+" system"]; e.TraceID != firstTrace || e.Request != "/v3/portals" || e.UserAgent != "sigtrail-test/1" {
		t.Errorf("the report does not name the first unaudited request (trace %s): %+v", firstTrace, e)
	}
	if e := got[a+" org"]; e.PrincipalName != "t-read-only" {
		t.Errorf("the org's report does not name the expired token: %+v", e)
	}

	// Nothing unaudited since: nothing to report. The bucket has refilled.
	n := len(h.entries(sys.ID))
	nextReport(h, time.Minute)
	if m := len(h.entries(sys.ID)); m != n {
		t.Fatalf("an empty period added %d entries", m-n)
	}
	h.callWith(http.MethodGet, "/v3/portals", "", nil, from(a)).expect(t, http.StatusUnauthorized)
	if m := len(h.entries(sys.ID)); m != n+2 {
		t.Fatalf("a request within the refilled budget appended %d entries, want 2", m-n)
	}
}

// storeCounter is the real store, counting TakeRateToken calls and token
// lookups.
type storeCounter struct {
	store.Store
	takes, lookups atomic.Int64
}

func (r *storeCounter) TakeRateToken(ctx context.Context, key string, now time.Time, l store.RateLimit) (bool, time.Duration, error) {
	r.takes.Add(1)
	return r.Store.TakeRateToken(ctx, key, now, l)
}

func (r *storeCounter) GetTokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	r.lookups.Add(1)
	return r.Store.GetTokenByHash(ctx, hash)
}

// TestUnauthenticatedBudgetCost: once a client is past its budget its
// requests take no rate token and append nothing until its bucket has a
// token again. One without an Authorization header reaches the store not
// at all; one with an unknown bearer token still costs its lookup (it
// might be a valid token, and unknown ones are not cached). Requests with
// a valid token never take a rate token.
func TestUnauthenticatedBudgetCost(t *testing.T) {
	t.Parallel()
	var sc *storeCounter
	cfg := trustLocal(t)
	cfg.UnauthAuditBudget = UnauthAuditBudget{Every: 10 * time.Second, Burst: 2}
	cfg.UnauthReportEvery = time.Hour
	h := newHarness(t, cfg, func(d *Deps) { sc = &storeCounter{Store: d.Store}; d.Store = sc })
	_, admin := h.org("o")
	sys, err := h.ten.SystemOrg(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		h.callWith(http.MethodGet, "/v3/portals", admin, nil, from("203.0.113.7")).expect(t, http.StatusOK)
	}
	if n := sc.takes.Load(); n != 0 {
		t.Fatalf("valid tokens took %d rate tokens", n)
	}
	for i, tc := range []struct {
		name, path, secret string
		status             int
		lookups            int64 // per request past the budget
		entries            int   // per audited request
	}{
		{"no token", "/v3/portals", "", http.StatusUnauthorized, 0, 2},
		{"unknown path", "/no-such-route", "", http.StatusNotFound, 0, 1},
		{"unknown bearer token", "/v3/portals", tenancy.PATPrefix + "bogus", http.StatusUnauthorized, 1, 2},
	} {
		addr := "203.0.113." + strconv.Itoa(10+i)
		takes := sc.takes.Load()
		for range 2 {
			h.callWith(http.MethodGet, tc.path, tc.secret, nil, from(addr)).expect(t, tc.status)
		}
		entries, lookups := len(h.entries(sys.ID)), sc.lookups.Load()
		for range 50 {
			h.callWith(http.MethodGet, tc.path, tc.secret, nil, from(addr)).expect(t, tc.status)
		}
		if n := sc.lookups.Load() - lookups; n != 50*tc.lookups {
			t.Errorf("%s: %d token lookups for 50 requests past the budget, want %d", tc.name, n, 50*tc.lookups)
		}
		// A valid token from the same address is served as ever.
		h.callWith(http.MethodGet, "/v3/portals", admin, nil, from(addr)).expect(t, http.StatusOK)
		if n := sc.takes.Load() - takes; n != 3 {
			t.Errorf("%s: %d rate tokens taken, want 3 (2 audited, the first past the budget)", tc.name, n)
		}
		if n := len(h.entries(sys.ID)); n != entries {
			t.Errorf("%s: requests past the budget appended %d entries", tc.name, n-entries)
		}
		h.clk.Advance(10 * time.Second) // one token again
		h.callWith(http.MethodGet, tc.path, tc.secret, nil, from(addr)).expect(t, tc.status)
		if n := sc.takes.Load() - takes; n != 4 {
			t.Errorf("%s: %d rate tokens taken, want 4", tc.name, n)
		}
		if n := len(h.entries(sys.ID)); n != entries+tc.entries {
			t.Errorf("%s: a request within the refilled budget appended %d entries, want %d", tc.name, n-entries, tc.entries)
		}
	}
}

// TestUnauthenticatedReportsStayBounded: past the clients it remembers,
// the budget reports the others of a log in one entry, and a report
// pending at shutdown is written then.
func TestUnauthenticatedReportsStayBounded(t *testing.T) {
	t.Parallel()
	cfg := trustLocal(t)
	cfg.UnauthAuditBudget.Burst = 1
	h := newHarness(t, cfg)
	h.api.unauth.maxClients = 1
	sys, err := h.ten.SystemOrg(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	stop := startReports(t, h)
	for _, addr := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"} {
		for range 5 {
			h.callWith(http.MethodGet, "/v3/portals", "", nil, from(addr)).expect(t, http.StatusUnauthorized)
		}
	}
	stop() // the final report
	var queries []string
	for _, e := range reports(h, sys.ID) {
		queries = append(queries, strings.Split(e.Query, "&since=")[0])
	}
	if got := strings.Join(queries, " "); got != "unaudited=8&client=other unaudited=4&client=203.0.113.1" && got != "unaudited=4&client=203.0.113.1 unaudited=8&client=other" {
		t.Fatalf("reports %q, want one for 203.0.113.1 and one for the others", got)
	}
}

// TestUnauthenticatedBudgetOff: with a negative burst every request is
// audited.
func TestUnauthenticatedBudgetOff(t *testing.T) {
	t.Parallel()
	cfg := trustLocal(t)
	cfg.UnauthAuditBudget = UnauthAuditBudget{Burst: -1}
	h := newHarness(t, cfg)
	sys, err := h.ten.SystemOrg(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	before := len(h.entries(sys.ID))
	for range 10 {
		h.callWith(http.MethodGet, "/v3/portals", "", nil, from("203.0.113.7")).expect(t, http.StatusUnauthorized)
	}
	if n := len(h.entries(sys.ID)) - before; n != 20 {
		t.Fatalf("%d entries for 10 requests, want 20", n)
	}
}

// failingRates is the real store, but its rate buckets cannot be read.
type failingRates struct{ store.Store }

func (failingRates) TakeRateToken(context.Context, string, time.Time, store.RateLimit) (bool, time.Duration, error) {
	return false, 0, errors.New("rate buckets unavailable")
}

// TestUnauthenticatedBudgetUnavailable: when the store cannot count, a
// request without valid credentials is answered as usual and audited.
func TestUnauthenticatedBudgetUnavailable(t *testing.T) {
	t.Parallel()
	h := newHarness(t, trustLocal(t), func(d *Deps) { d.Store = failingRates{d.Store} })
	sys, err := h.ten.SystemOrg(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	before := len(h.entries(sys.ID))
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/v3/portals", http.StatusUnauthorized},
		{"/no-such-route", http.StatusNotFound},
	} {
		h.callWith(http.MethodGet, tc.path, "", nil, from("203.0.113.7")).problem(t, tc.status)
	}
	if n := len(h.entries(sys.ID)) - before; n != 3 {
		t.Fatalf("%d entries for a 401 and a 404, want 3 (authentication and access, access)", n)
	}
}
