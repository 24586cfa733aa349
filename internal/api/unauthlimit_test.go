package api

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/tenancy"
)

// startReports runs the API's background work (the reports of refused
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

// reports returns a stream's reports of refused requests.
func reports(h *harness, stream string) []audit.Entry {
	var out []audit.Entry
	for _, e := range h.entries(stream) {
		if e.Entry.Kind == audit.KindAccess && e.Entry.Status == http.StatusTooManyRequests && e.Entry.KongInitiated {
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
	return Config{TrustedProxies: proxies, UnauthRateLimit: UnauthRateLimit{Every: time.Second, Burst: 3}, UnauthReportEvery: time.Minute}
}

// TestUnauthenticatedRequestsAreLimitedPerClient: requests without valid
// credentials are limited per client address (an IPv6 client's /64); past
// the limit they are answered 429 with Retry-After and not audited, and
// one entry per client and log reports them once a period. Valid tokens,
// ingest included, are never limited, even from a limited address.
func TestUnauthenticatedRequestsAreLimitedPerClient(t *testing.T) {
	t.Parallel()
	h := newHarness(t, trustLocal(t))
	org, admin := h.org("o")
	producer := h.token(org, store.RoleProducer, false, 0)
	expired := h.token(org, store.RoleReadOnly, false, time.Hour)
	h.clk.Advance(2 * time.Hour)
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
	sysBefore, orgBefore := len(h.entries(sys.ID)), len(h.entries(org))

	// Past it: 429, nothing appended, whatever the failure.
	var firstTrace string
	for i, tc := range []struct{ path, secret, addr string }{
		{"/v3/portals?x=1", "", a},
		{"/v3/portals", tenancy.PATPrefix + "unknown", a},
		{"/no-such-route", "", a},
		{"/v3/audit-log-destinations", "", a},
		{"/v3/portals", expired, a}, // its org's log
	} {
		res := h.callWith(http.MethodGet, tc.path, tc.secret, nil, from(tc.addr))
		res.problem(t, http.StatusTooManyRequests)
		if got := res.Header.Get("Retry-After"); got != "1" {
			t.Errorf("Retry-After %q, want 1", got)
		}
		if i == 0 {
			firstTrace = res.Header.Get("X-Sigtrail-Trace-Id")
		}
	}
	if n, m := len(h.entries(sys.ID)), len(h.entries(org)); n != sysBefore || m != orgBefore {
		t.Fatalf("refused requests appended entries: system log %d -> %d, org log %d -> %d", sysBefore, n, orgBefore, m)
	}

	// Valid credentials from the same address: served and audited.
	h.callWith(http.MethodGet, "/v3/portals", admin, nil, from(a)).expect(t, http.StatusOK)
	h.callWith(http.MethodPost, "/v1/entries", producer, ingestLine("in-1")+"\n", map[string]string{"X-Forwarded-For": a, "Content-Type": "application/x-ndjson"}).expect(t, http.StatusAccepted)

	// Another address has its own bucket; an IPv6 /64 has one bucket.
	h.callWith(http.MethodGet, "/v3/portals", "", nil, from("203.0.113.8")).expect(t, http.StatusUnauthorized)
	for i := range 3 {
		h.callWith(http.MethodGet, "/v3/portals", "", nil, from("2001:db8:1:2::"+string(rune('1'+i)))).expect(t, http.StatusUnauthorized)
	}
	h.callWith(http.MethodGet, "/v3/portals", "", nil, from("2001:db8:1:2:ffff::9")).expect(t, http.StatusTooManyRequests)
	h.callWith(http.MethodGet, "/v3/portals", "", nil, from("2001:db8:1:3::1")).expect(t, http.StatusUnauthorized)

	if r := reports(h, sys.ID); len(r) != 0 {
		t.Fatalf("reported before the period ended: %v", r)
	}
	start := h.clk.Now().UTC()
	nextReport(h, time.Minute)
	want := map[string]struct {
		stream, query, src string
	}{
		a + " system": {sys.ID, "refused=4&client=" + a + "&since=" + start.Format(time.RFC3339), a},
		a + " org":    {org, "refused=1&client=" + a + "&since=" + start.Format(time.RFC3339), a},
		"ipv6":        {sys.ID, "refused=1&client=2001:db8:1:2::/64&since=" + start.Format(time.RFC3339), "2001:db8:1:2:ffff::9"},
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
		if e.Query != w.query || e.Src != w.src || e.OrgID != w.stream || e.Act != http.MethodGet || e.Name != audit.AccessName {
			t.Errorf("%s: report %+v, want query %q, src %q, org %q", name, e, w.query, w.src, w.stream)
		}
	}
	if e := got[a+" system"]; e.TraceID != firstTrace || e.Request != "/v3/portals" || e.UserAgent != "sigtrail-test/1" || e.PrincipalID != "" {
		t.Errorf("the report does not name the first refused request (trace %s): %+v", firstTrace, e)
	}

	// Nothing refused since: nothing to report. The bucket has refilled.
	n := len(h.entries(sys.ID))
	nextReport(h, time.Minute)
	if m := len(h.entries(sys.ID)); m != n {
		t.Fatalf("an empty period added %d entries", m-n)
	}
	h.callWith(http.MethodGet, "/v3/portals", "", nil, from(a)).expect(t, http.StatusUnauthorized)
}

// rateCounter is the real store, counting TakeRateToken calls.
type rateCounter struct {
	store.Store
	takes atomic.Int64
}

func (r *rateCounter) TakeRateToken(ctx context.Context, key string, now time.Time, l store.RateLimit) (bool, time.Duration, error) {
	r.takes.Add(1)
	return r.Store.TakeRateToken(ctx, key, now, l)
}

// TestUnauthenticatedLimitCost: once a client is over the limit its
// requests reach the store no more (no rate token, no append) until its
// bucket has a token again; requests with a valid token never take one.
func TestUnauthenticatedLimitCost(t *testing.T) {
	t.Parallel()
	var rc *rateCounter
	cfg := trustLocal(t)
	cfg.UnauthRateLimit = UnauthRateLimit{Every: 10 * time.Second, Burst: 2}
	cfg.UnauthReportEvery = time.Hour
	h := newHarness(t, cfg, func(d *Deps) { rc = &rateCounter{Store: d.Store}; d.Store = rc })
	_, admin := h.org("o")
	sys, err := h.ten.SystemOrg(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		h.callWith(http.MethodGet, "/v3/portals", admin, nil, from("203.0.113.7")).expect(t, http.StatusOK)
	}
	if n := rc.takes.Load(); n != 0 {
		t.Fatalf("valid tokens took %d rate tokens", n)
	}
	for range 2 {
		h.callWith(http.MethodGet, "/v3/portals", "", nil, from("203.0.113.7")).expect(t, http.StatusUnauthorized)
	}
	entries := len(h.entries(sys.ID))
	for range 50 {
		h.callWith(http.MethodGet, "/v3/portals", "", nil, from("203.0.113.7")).expect(t, http.StatusTooManyRequests)
	}
	if n := rc.takes.Load(); n != 3 {
		t.Fatalf("%d rate tokens taken, want 3 (2 allowed, the first refusal)", n)
	}
	if n := len(h.entries(sys.ID)); n != entries {
		t.Fatalf("refused requests appended %d entries", n-entries)
	}
	h.clk.Advance(10 * time.Second) // one token again
	h.callWith(http.MethodGet, "/v3/portals", "", nil, from("203.0.113.7")).expect(t, http.StatusUnauthorized)
	if n := rc.takes.Load(); n != 4 {
		t.Fatalf("%d rate tokens taken, want 4", n)
	}
}

// TestUnauthenticatedReportsStayBounded: past the clients it remembers,
// the limiter reports the others of a log in one entry, and a report
// pending at shutdown is written then.
func TestUnauthenticatedReportsStayBounded(t *testing.T) {
	t.Parallel()
	cfg := trustLocal(t)
	cfg.UnauthRateLimit.Burst = 1
	h := newHarness(t, cfg)
	h.api.unauth.maxClients = 1
	sys, err := h.ten.SystemOrg(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	stop := startReports(t, h)
	for _, addr := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"} {
		h.callWith(http.MethodGet, "/v3/portals", "", nil, from(addr)).expect(t, http.StatusUnauthorized)
		for range 4 {
			h.callWith(http.MethodGet, "/v3/portals", "", nil, from(addr)).expect(t, http.StatusTooManyRequests)
		}
	}
	stop() // the final report
	var queries []string
	for _, e := range reports(h, sys.ID) {
		queries = append(queries, strings.Split(e.Query, "&since=")[0])
	}
	if got := strings.Join(queries, " "); got != "refused=8&client=other refused=4&client=203.0.113.1" && got != "refused=4&client=203.0.113.1 refused=8&client=other" {
		t.Fatalf("reports %q, want one for 203.0.113.1 and one for the others", got)
	}
}

func TestUnauthenticatedLimitOff(t *testing.T) {
	t.Parallel()
	cfg := trustLocal(t)
	cfg.UnauthRateLimit = UnauthRateLimit{Burst: -1}
	h := newHarness(t, cfg)
	for range 10 {
		h.callWith(http.MethodGet, "/v3/portals", "", nil, from("203.0.113.7")).expect(t, http.StatusUnauthorized)
	}
}
