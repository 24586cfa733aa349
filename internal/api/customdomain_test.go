package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

func TestPortalCustomDomain(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{PortalDomainSuffix: "portals.example.net"})
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
	if d.Hostname != "dev.acme.test" || !d.Enabled || d.SSL.VerificationStatus != "verified" {
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
