package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/customdomain"
	"github.com/sigtrail/sigtrail/internal/dnstest"
	"github.com/sigtrail/sigtrail/internal/store"
)

// withDomainChecks checks custom domains in mode, asking srv (nil: no DNS).
func withDomainChecks(mode customdomain.Mode, srv *dnstest.Server) func(*Deps) {
	return func(d *Deps) {
		var r customdomain.Resolver
		if srv != nil {
			r = customdomain.NewDNSResolver([]string{srv.Addr})
		}
		d.CustomDomains = customdomain.New(customdomain.Config{Mode: mode, LookupTimeout: 300 * time.Millisecond, PortalDomainSuffix: "portals.example.net"},
			customdomain.Deps{Store: d.Store, Resolver: r, Recorder: d.Recorder, Clock: d.Clock, Logger: d.Logger})
	}
}

// newDNSHarness is a harness checking custom domains (under
// portals.example.net) against a new DNS server.
func newDNSHarness(t *testing.T) (*harness, *dnstest.Server) {
	t.Helper()
	srv := dnstest.Start(t)
	return newHarness(t, Config{PortalDomainSuffix: "portals.example.net"}, withDomainChecks(customdomain.ModeDNS, srv)), srv
}

// TestPortalCustomDomain is the single-tenant mode (--custom-domain-check
// none): a claim is served at once, and a name another portal has is a
// 400, as before DNS checks.
func TestPortalCustomDomain(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{PortalDomainSuffix: "portals.example.net", CustomDomainsUnchecked: true}, withDomainChecks(customdomain.ModeNone, nil))
	_, tok := h.org("o")
	_, otherTok := h.org("other")
	var p, q portalJSON
	h.call(http.MethodPost, "/v3/portals", tok, map[string]any{"name": "acme"}).expect(t, http.StatusCreated).decode(t, &p)
	h.call(http.MethodPost, "/v3/portals", otherTok, map[string]any{"name": "rival"}).expect(t, http.StatusCreated).decode(t, &q)
	path := "/v3/portals/" + p.ID + "/custom-domain"
	create := func(host string) map[string]any {
		return map[string]any{"hostname": host, "enabled": true, "ssl": map[string]any{"domain_verification_method": "http"}}
	}

	h.call(http.MethodGet, path, tok, nil).problem(t, http.StatusNotFound)
	h.call(http.MethodDelete, path, tok, nil).problem(t, http.StatusNotFound)
	h.call(http.MethodPatch, path, tok, map[string]any{"enabled": true}).problem(t, http.StatusNotFound)

	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no hostname", map[string]any{"enabled": true, "ssl": map[string]any{"domain_verification_method": "http"}}, "hostname"},
		{"no ssl", map[string]any{"hostname": "dev.acme.test", "enabled": true}, "ssl"},
		{"disabled", map[string]any{"hostname": "dev.acme.test", "enabled": false, "ssl": map[string]any{"domain_verification_method": "http"}}, "enabled"},
		{"certificate", map[string]any{"hostname": "dev.acme.test", "enabled": true, "ssl": map[string]any{
			"domain_verification_method": "custom_certificate", "custom_certificate": "x", "custom_private_key": "y"}}, "ssl.domain_verification_method"},
		{"address", create("192.0.2.7"), "hostname"},
		{"single label", create("intranet"), "hostname"},
		{"bad name", create("dev..acme.test"), "hostname"},
		{"under the default suffix", create("squat.portals.example.net"), "hostname"},
		{"another portal's default domain", create(q.DefaultDomain), "hostname"},
	} {
		pr := h.call(http.MethodPost, path, tok, tc.body).problem(t, http.StatusBadRequest)
		params, _ := pr["invalid_parameters"].([]any)
		if len(params) != 1 || params[0].(map[string]any)["field"] != tc.field {
			t.Errorf("%s: %v", tc.name, pr)
		}
	}

	var d customDomainJSON
	h.call(http.MethodPost, path, tok, create("Dev.Acme.Test.")).expect(t, http.StatusCreated).decode(t, &d)
	if d.Hostname != "dev.acme.test" || !d.Enabled || d.SSL.VerificationStatus != "verified" || d.CNAMEStatus != "verified" {
		t.Fatalf("created %+v", d)
	}
	// The portal listener finds the portal by it, and the portal shows it.
	if got, err := h.st.GetPortalByDomain(t.Context(), "dev.acme.test"); err != nil || got.ID != p.ID {
		t.Fatalf("lookup by custom domain: %+v %v", got, err)
	}
	var got portalJSON
	h.call(http.MethodGet, "/v3/portals/"+p.ID, tok, nil).expect(t, http.StatusOK).decode(t, &got)
	if got.CanonicalDomain != "dev.acme.test" || got.DefaultDomain != p.DefaultDomain {
		t.Errorf("portal %+v", got)
	}
	h.call(http.MethodGet, path, tok, nil).expect(t, http.StatusOK)
	h.call(http.MethodPatch, path, tok, map[string]any{"enabled": true}).expect(t, http.StatusOK)
	h.call(http.MethodPatch, path, tok, map[string]any{"enabled": false}).problem(t, http.StatusBadRequest)
	h.call(http.MethodPost, path, tok, create("www.acme.test")).problem(t, http.StatusBadRequest) // one per portal
	// Another org cannot take it, and learns nothing but that it is taken.
	res := h.call(http.MethodPost, "/v3/portals/"+q.ID+"/custom-domain", otherTok, create("dev.acme.test")).problem(t, http.StatusBadRequest)
	if v := res["detail"].(string) + res["invalid_parameters"].([]any)[0].(map[string]any)["reason"].(string); strings.Contains(v, p.ID) || strings.Contains(v, "acme ") {
		t.Errorf("conflict names the other portal: %v", res)
	}
	// Roles: read-only reads, cannot write.
	org := orgOf(t, h, tok)
	ro := h.token(org, store.RoleReadOnly, false, 0)
	h.call(http.MethodGet, path, ro, nil).expect(t, http.StatusOK)
	h.call(http.MethodDelete, path, ro, nil).problem(t, http.StatusForbidden)

	h.call(http.MethodDelete, path, tok, nil).expect(t, http.StatusNoContent)
	if _, err := h.st.GetPortalByDomain(t.Context(), "dev.acme.test"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("deleted custom domain still serves: %v", err)
	}
	h.call(http.MethodGet, path, tok, nil).problem(t, http.StatusNotFound)
	// Freed, it can be taken again.
	h.call(http.MethodPost, "/v3/portals/"+q.ID+"/custom-domain", otherTok, create("dev.acme.test")).expect(t, http.StatusCreated)
}

// customDomainCreate is a create request for host.
func customDomainCreate(host string) map[string]any {
	return map[string]any{"hostname": host, "enabled": true, "ssl": map[string]any{"domain_verification_method": "http"}}
}

// TestCustomDomainTakeover is the attack the DNS check stops: an org
// claims a name another company will point at sigtrail for its own portal.
// The claim is pending and not served; the company's own claim succeeds
// the same way and is verified once its CNAME leads to its portal; neither
// answer tells one org of the other's claim.
func TestCustomDomainTakeover(t *testing.T) {
	t.Parallel()
	h, srv := newDNSHarness(t)
	_, attackerTok := h.org("attacker")
	_, victimTok := h.org("bigcorp")
	var a, v portalJSON
	h.call(http.MethodPost, "/v3/portals", attackerTok, map[string]any{"name": "phish"}).expect(t, http.StatusCreated).decode(t, &a)
	h.call(http.MethodPost, "/v3/portals", victimTok, map[string]any{"name": "bigcorp"}).expect(t, http.StatusCreated).decode(t, &v)
	srv.A(a.DefaultDomain)
	srv.A(v.DefaultDomain)
	const host = "developer.bigcorp.test"
	served := func() string {
		t.Helper()
		p, err := h.st.GetPortalByDomain(t.Context(), host)
		if apperr.Is(err, apperr.NotFound) {
			return ""
		}
		if err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	status := func(tok, portalID string, method string, body any, code int) customDomainJSON {
		t.Helper()
		var d customDomainJSON
		res := h.call(method, "/v3/portals/"+portalID+"/custom-domain", tok, body).expect(t, code)
		res.decode(t, &d)
		if d.CNAMEStatus != d.SSL.VerificationStatus {
			t.Errorf("cname_status %q, ssl.verification_status %q", d.CNAMEStatus, d.SSL.VerificationStatus)
		}
		return d
	}

	// The attacker's claim is taken, pending, and not served.
	if d := status(attackerTok, a.ID, http.MethodPost, customDomainCreate(host), http.StatusCreated); d.CNAMEStatus != "pending" {
		t.Fatalf("attacker's claim %+v", d)
	}
	if served() != "" {
		t.Fatal("a claim without its CNAME is served")
	}
	var got portalJSON
	h.call(http.MethodGet, "/v3/portals/"+a.ID, attackerTok, nil).expect(t, http.StatusOK).decode(t, &got)
	if got.CanonicalDomain != a.DefaultDomain {
		t.Errorf("a pending claim is the canonical domain: %+v", got)
	}
	// BigCorp claims its own name: the same answer as any new claim, no
	// 400, nothing about the attacker's claim.
	res := h.call(http.MethodPost, "/v3/portals/"+v.ID+"/custom-domain", victimTok, customDomainCreate(host)).expect(t, http.StatusCreated)
	for _, leak := range []string{a.ID, "phish", "already", "taken", "another"} {
		if strings.Contains(string(res.Body), leak) {
			t.Errorf("BigCorp's claim answer mentions %q: %s", leak, res.Body)
		}
	}
	var d customDomainJSON
	res.decode(t, &d)
	if d.CNAMEStatus != "pending" || d.Hostname != host {
		t.Fatalf("BigCorp's claim %+v", d)
	}
	// The attacker pointing the name at its own portal is not in its
	// power: DNS is BigCorp's. BigCorp points it at its portal and asks
	// for a check.
	srv.CNAME(host, v.DefaultDomain)
	if d := status(victimTok, v.ID, http.MethodPatch, map[string]any{"enabled": true}, http.StatusOK); d.CNAMEStatus != "verified" {
		t.Fatalf("after the CNAME: %+v", d)
	}
	if served() != v.ID {
		t.Fatal("BigCorp's portal is not served on its name")
	}
	// The attacker's checks never verify it, and it learns nothing
	// either: its claim just stays pending.
	if d := status(attackerTok, a.ID, http.MethodPatch, map[string]any{"enabled": true}, http.StatusOK); d.CNAMEStatus != "pending" {
		t.Fatalf("attacker's claim %+v", d)
	}
	if d := status(attackerTok, a.ID, http.MethodGet, nil, http.StatusOK); d.CNAMEStatus != "pending" {
		t.Fatalf("attacker's claim %+v", d)
	}
	if served() != v.ID {
		t.Fatal("the attacker's check moved the name")
	}
	h.call(http.MethodGet, "/v3/portals/"+v.ID, victimTok, nil).expect(t, http.StatusOK).decode(t, &got)
	if got.CanonicalDomain != host {
		t.Errorf("verified claim is not the canonical domain: %+v", got)
	}
	// Claiming the name again while BigCorp has it verified tells the
	// attacker nothing either: a pending claim like any other.
	h.call(http.MethodDelete, "/v3/portals/"+a.ID+"/custom-domain", attackerTok, nil).expect(t, http.StatusNoContent)
	res = h.call(http.MethodPost, "/v3/portals/"+a.ID+"/custom-domain", attackerTok, customDomainCreate(host)).expect(t, http.StatusCreated)
	for _, leak := range []string{v.ID, "bigcorp.portals", "already", "taken", "another"} {
		if strings.Contains(string(res.Body), leak) {
			t.Errorf("a claim on a verified name answers %q: %s", leak, res.Body)
		}
	}
	if served() != v.ID {
		t.Fatal("claiming a verified name again moved it")
	}
	// A name under the default suffix is refused as before, and so is a
	// name that is another portal's default domain (public anyway).
	h.call(http.MethodDelete, "/v3/portals/"+a.ID+"/custom-domain", attackerTok, nil).expect(t, http.StatusNoContent)
	h.call(http.MethodPost, "/v3/portals/"+a.ID+"/custom-domain", attackerTok, customDomainCreate("x.portals.example.net")).problem(t, http.StatusBadRequest)
}

// TestDeletedPortalsDefaultDomainStaysWithItsOrg: BigCorp deletes its
// portal and leaves its CNAME in place; another org creating a portal of
// the same name gets another default domain, so its claim on BigCorp's
// name never verifies. BigCorp itself may have the default domain again.
func TestDeletedPortalsDefaultDomainStaysWithItsOrg(t *testing.T) {
	t.Parallel()
	h, srv := newDNSHarness(t)
	_, victimTok := h.org("bigcorp")
	_, attackerTok := h.org("attacker")
	const host = "developer.bigcorp.test"
	// create makes a portal named bigcorp claiming host and returns it
	// with its claim's status.
	create := func(tok string) (portalJSON, string) {
		t.Helper()
		var p portalJSON
		var d customDomainJSON
		h.call(http.MethodPost, "/v3/portals", tok, map[string]any{"name": "bigcorp"}).expect(t, http.StatusCreated).decode(t, &p)
		srv.A(p.DefaultDomain)
		h.call(http.MethodPost, "/v3/portals/"+p.ID+"/custom-domain", tok, customDomainCreate(host)).expect(t, http.StatusCreated).decode(t, &d)
		return p, d.CNAMEStatus
	}
	v, _ := create(victimTok)
	srv.CNAME(host, v.DefaultDomain)
	h.call(http.MethodPatch, "/v3/portals/"+v.ID+"/custom-domain", victimTok, map[string]any{"enabled": true}).expect(t, http.StatusOK)
	if p, err := h.st.GetPortalByDomain(t.Context(), host); err != nil || p.ID != v.ID {
		t.Fatalf("BigCorp's name not served: %+v %v", p, err)
	}
	h.call(http.MethodDelete, "/v3/portals/"+v.ID, victimTok, nil).expect(t, http.StatusNoContent)

	a, status := create(attackerTok)
	if a.DefaultDomain == v.DefaultDomain || status != "pending" {
		t.Fatalf("another org's portal got %s (claim %s)", a.DefaultDomain, status)
	}
	if p, err := h.st.GetPortalByDomain(t.Context(), host); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("%s served by %+v (%v) after its portal was deleted", host, p, err)
	}
	h.call(http.MethodDelete, "/v3/portals/"+a.ID+"/custom-domain", attackerTok, nil).expect(t, http.StatusNoContent)

	again, status := create(victimTok)
	if again.DefaultDomain != v.DefaultDomain || status != "verified" {
		t.Fatalf("BigCorp's new portal got %s (claim %s), want %s verified", again.DefaultDomain, status, v.DefaultDomain)
	}
}
