package customdomain

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/miekg/dns"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/dnstest"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlite"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const suffix = "portals.example.net"

// env is a checker over a real SQLite store and a real DNS server.
type env struct {
	t   *testing.T
	st  *sqlite.Store
	dns *dnstest.Server
	clk *clock.Fake
	c   *Checker
}

func newEnv(t *testing.T, mode Mode) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, st: st, dns: dnstest.Start(t), clk: clock.NewFake(epoch)}
	e.c = New(Config{Mode: mode, LookupTimeout: 300 * time.Millisecond, PortalDomainSuffix: suffix},
		Deps{Store: st, Resolver: NewDNSResolver([]string{e.dns.Addr}), Recorder: store.LogRecorder{Log: st}, Clock: e.clk})
	return e
}

// portal makes an org with a portal named name claiming host; the
// portal's default domain has an address.
func (e *env) portal(name, host string) store.Portal {
	e.t.Helper()
	ctx := e.t.Context()
	o := store.Org{ID: uuid.NewString(), Name: "org-" + name, CreatedAt: epoch}
	if err := e.st.CreateOrg(ctx, o); err != nil {
		e.t.Fatal(err)
	}
	p := store.Portal{ID: uuid.NewString(), OrgID: o.ID, Name: name, DisplayName: name, DefaultAPIVisibility: "public",
		DefaultPageVisibility: "public", DefaultDomain: name + "." + suffix, CustomDomain: host, CreatedAt: e.clk.Now(), UpdatedAt: e.clk.Now()}
	if err := e.st.CreatePortal(ctx, p); err != nil {
		e.t.Fatal(err)
	}
	e.dns.A(p.DefaultDomain)
	return p
}

// served is the portal the portal listener finds by host ("" none).
func (e *env) served(host string) string {
	e.t.Helper()
	p, err := e.st.GetPortalByDomain(e.t.Context(), host)
	if apperr.Is(err, apperr.NotFound) {
		return ""
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Name
}

// mustServe fails the test unless the portal named name is served on host
// ("": none).
func (e *env) mustServe(host, name string) {
	e.t.Helper()
	if got := e.served(host); got != name {
		e.t.Fatalf("%s served by %q, want %q", host, got, name)
	}
}

// claimBoth makes portals first and second claim host (in that order),
// points host at the default domain of the one named served, runs a round
// and checks that one is served on it.
func (e *env) claimBoth(host, first, second, served string) (store.Portal, store.Portal) {
	e.t.Helper()
	a, b := e.portal(first, host), e.portal(second, host)
	target := a
	if served == second {
		target = b
	}
	e.dns.CNAME(host, target.DefaultDomain)
	e.round(0)
	e.mustServe(host, served)
	return a, b
}

// round advances the clock by d and runs the due checks.
func (e *env) round(d time.Duration) int {
	e.t.Helper()
	e.clk.Advance(d)
	n, err := e.c.RunOnce(e.t.Context())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// changes lists the custom-domain changes recorded in p's org log, as
// "cname_status=...&hostname=..." queries.
func (e *env) changes(p store.Portal) []string {
	e.t.Helper()
	es, err := e.st.Read(e.t.Context(), store.StreamID(p.OrgID), 0, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for i, se := range es {
		en := se.Entry
		switch en.Kind {
		case audit.KindAuthorization:
			if en.Name != "Authz.portal-custom-domains/"+p.ID || en.Action != audit.ActionEdit || !en.Granted || !en.KongInitiated ||
				i+1 == len(es) || es[i+1].Entry.Kind != audit.KindAccess {
				e.t.Errorf("authorization entry %+v", en)
			}
		case audit.KindAccess:
			if en.Request != "/v3/portals/"+p.ID+"/custom-domain" || !en.KongInitiated || en.OrgID != p.OrgID || en.UserAgent != userAgent {
				e.t.Errorf("access entry %+v", en)
			}
			out = append(out, en.Query)
		}
	}
	return out
}

func TestPendingUntilTheCNAMEExists(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ModeDNS)
	p := e.portal("acme", "developer.acme.test")
	if n := e.round(0); n != 1 || e.served("developer.acme.test") != "" {
		t.Fatalf("checked %d; served without a CNAME", n)
	}
	// Backoff: 1, 2, 4 minutes; nothing is due in between.
	for _, d := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute} {
		if n := e.round(d - time.Second); n != 0 {
			t.Fatalf("due %v early", time.Second)
		}
		if n := e.round(time.Second); n != 1 {
			t.Fatalf("not due after %v", d)
		}
	}
	queries := e.dns.Queries()
	e.dns.CNAME("developer.acme.test", p.DefaultDomain)
	e.round(8 * time.Minute)
	if e.served("developer.acme.test") != "acme" {
		t.Fatal("not served once its CNAME exists")
	}
	if e.dns.Queries() == queries {
		t.Fatal("no DNS query")
	}
	if got := e.changes(p); len(got) != 1 || got[0] != "cname_status=verified&hostname=developer.acme.test" {
		t.Errorf("org log: %v", got)
	}
	// Verified names are checked again hourly.
	if n := e.round(59 * time.Minute); n != 0 {
		t.Fatal("a verified name checked again before an hour")
	}
	if n := e.round(time.Minute); n != 1 {
		t.Fatal("a verified name not checked again after an hour")
	}
}

func TestAWrongTargetNeverVerifies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ModeDNS)
	p := e.portal("acme", "developer.acme.test")
	e.portal("rival", "")
	// The wrong targets have addresses: only the names compared refuse them.
	e.dns.A("acme." + suffix + ".evil.test")
	e.dns.A("acme.example.org")
	for _, to := range []func(){
		func() { e.dns.CNAME("developer.acme.test", "rival."+suffix) },             // another portal
		func() { e.dns.CNAME("developer.acme.test", "acme."+suffix+".evil.test") }, // a look-alike
		func() { e.dns.CNAME("developer.acme.test", "acme.example.org") },          // the portal's name elsewhere
		func() { // through another portal's default domain
			e.dns.CNAME("developer.acme.test", "rival."+suffix)
			e.dns.CNAME("rival."+suffix, p.DefaultDomain)
		},
		func() { e.dns.A("developer.acme.test") },                            // an address, no CNAME
		func() { e.dns.Remove("developer.acme.test") },                       // NXDOMAIN
		func() { e.dns.Fail("developer.acme.test", dns.RcodeServerFailure) }, // SERVFAIL
		func() { e.dns.Hang("developer.acme.test") },                         // timeout
	} {
		to()
		e.round(2 * time.Hour)
		if got := e.served("developer.acme.test"); got != "" {
			t.Fatalf("served by %s", got)
		}
	}
}

func TestAContestedNameGoesToThePortalDNSPointsAt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ModeDNS)
	squatter, _ := e.claimBoth("developer.bigcorp.test", "squatter", "bigcorp", "bigcorp")
	if len(e.changes(squatter)) != 0 {
		t.Error("the squatter's org log shows a change")
	}
	for range 10 {
		e.round(time.Hour)
	}
	e.mustServe("developer.bigcorp.test", "bigcorp")
}

func TestAMovedCNAMEMovesTheNameWithinMinutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ModeDNS)
	a, b := e.claimBoth("docs.shared.test", "a", "b", "a")
	e.dns.CNAME("docs.shared.test", b.DefaultDomain)
	// b's next check finds its CNAME while a holds the name: a is due at
	// once rather than at its hourly recheck, fails there and after 1
	// and 2 minutes (b asking again every minute), and the third failure
	// frees the name for b, due at once: minutes, not an hour.
	e.round(time.Minute)
	e.mustServe("docs.shared.test", "a")
	e.round(0)
	e.mustServe("docs.shared.test", "a") // one failure is not the threshold
	for range 4 {
		e.round(time.Minute)
	}
	e.mustServe("docs.shared.test", "b")
	if got := e.changes(a); len(got) != 2 || got[1] != "cname_status=pending&hostname=docs.shared.test" {
		t.Errorf("a's org log: %v", got)
	}
	if got := e.changes(b); len(got) != 1 || got[0] != "cname_status=verified&hostname=docs.shared.test" {
		t.Errorf("b's org log: %v", got)
	}
}

// TestResolverTroubleTakesNoName: lookups that fail (SERVFAIL, timeouts),
// for more checks than the threshold of failed ones, leave a verified name
// verified; they are asked again every minute, and only DNS's answers
// count.
func TestResolverTroubleTakesNoName(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ModeDNS)
	p := e.portal("acme", "developer.acme.test")
	e.dns.CNAME("developer.acme.test", p.DefaultDomain)
	e.round(0)
	e.mustServe("developer.acme.test", "acme")
	e.dns.Fail("developer.acme.test", dns.RcodeServerFailure)
	e.round(time.Hour)
	for i := range 6 {
		if i == 3 {
			e.dns.Hang("developer.acme.test")
		}
		if n := e.round(time.Minute); n != 1 {
			t.Fatalf("round %d: %d checks due a minute after a failed lookup, want 1", i, n)
		}
		e.mustServe("developer.acme.test", "acme")
	}
	// Two answers that it is gone keep it; the third takes it.
	e.dns.Remove("developer.acme.test")
	e.round(time.Minute)
	e.round(time.Minute)
	e.mustServe("developer.acme.test", "acme")
	e.round(2 * time.Minute)
	e.mustServe("developer.acme.test", "")
	if got := e.changes(p); len(got) != 2 || got[1] != "cname_status=pending&hostname=developer.acme.test" {
		t.Errorf("org log: %v", got)
	}
}

// TestCheckWaitsForItsTurn: checks on request share the Concurrency
// bound with the background ones; one waiting gives up with its context.
func TestCheckWaitsForItsTurn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ModeDNS)
	c := New(Config{LookupTimeout: 2 * time.Second, Concurrency: 1, PortalDomainSuffix: suffix},
		Deps{Store: e.st, Resolver: NewDNSResolver([]string{e.dns.Addr}), Clock: e.clk})
	slow, other := e.portal("slow", "developer.slow.test"), e.portal("other", "developer.other.test")
	e.dns.Hang("developer.slow.test")
	e.dns.CNAME("developer.other.test", other.DefaultDomain)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = c.Check(context.Background(), slow.ID)
	}()
	for e.dns.Queries() == 0 {
		time.Sleep(time.Millisecond)
	}
	// With no slot free within checkSlotWait, a request's check gives up
	// without an error: the claim stays due for the background checks.
	type result struct {
		ch  store.CustomDomainChange
		err error
	}
	got := make(chan result, 1)
	go func() {
		ch, err := c.Check(t.Context(), other.ID)
		got <- result{ch, err}
	}()
	for !slices.Contains(e.clk.Pending(), checkSlotWait) {
		time.Sleep(time.Millisecond)
	}
	e.clk.Advance(checkSlotWait)
	if r := <-got; r.err != nil || !r.ch.Stale || r.ch.Verified {
		t.Errorf("a check past the bound ran: %+v %v", r.ch, r.err)
	}
	if n := e.dns.Queries(); n != 1 {
		t.Errorf("%d DNS queries, want the waiting check's none", n)
	}
	// A request whose context ends first gives up with its error.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if ch, err := c.Check(ctx, other.ID); err == nil || ch.Verified {
		t.Errorf("a check with an ended context ran: %+v %v", ch, err)
	}
	<-done
}

// cancelAfterRecord is the store, and the caller's context cancelled
// right after each result is stored (a client that disconnects then).
type cancelAfterRecord struct {
	*sqlite.Store
	cancel context.CancelFunc
}

func (s cancelAfterRecord) RecordCustomDomainCheck(ctx context.Context, r store.CustomDomainResult) (store.CustomDomainChange, error) {
	ch, err := s.Store.RecordCustomDomainCheck(ctx, r)
	s.cancel()
	return ch, err
}

// TestAChangeIsAuditedWhenTheCallerGoes: a change stored by a request's
// check is recorded in the org log even when the request ends just after.
func TestAChangeIsAuditedWhenTheCallerGoes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ModeDNS)
	p := e.portal("acme", "developer.acme.test")
	e.dns.CNAME("developer.acme.test", p.DefaultDomain)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	c := New(Config{LookupTimeout: time.Second, PortalDomainSuffix: suffix},
		Deps{Store: cancelAfterRecord{Store: e.st, cancel: cancel}, Resolver: NewDNSResolver([]string{e.dns.Addr}),
			Recorder: store.LogRecorder{Log: e.st}, Clock: e.clk})
	if ch, err := c.Check(ctx, p.ID); err != nil || !ch.Verified {
		t.Fatalf("Check: %+v %v", ch, err)
	}
	if got := e.changes(p); len(got) != 1 || got[0] != "cname_status=verified&hostname=developer.acme.test" {
		t.Errorf("org log: %v", got)
	}
}

func TestModeNoneVerifiesWithoutDNS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ModeNone)
	p := e.portal("acme", "developer.acme.test")
	ch, err := e.c.Check(t.Context(), p.ID)
	if err != nil || !ch.Verified {
		t.Fatalf("Check: %+v %v", ch, err)
	}
	if e.served("developer.acme.test") != "acme" || e.dns.Queries() != 0 {
		t.Fatalf("served %q after %d queries", e.served("developer.acme.test"), e.dns.Queries())
	}
}

func TestRunStopsWithItsContext(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ModeDNS)
	e.portal("acme", "developer.acme.test")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.c.Run(ctx) }()
	<-e.clk.TimerCreated() // the first round is done, the loop waits
	if e.dns.Queries() == 0 {
		t.Fatal("the first round asked no DNS")
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Run returned %v", err)
	}
}
