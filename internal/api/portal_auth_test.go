package api

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/sigtrail/sigtrail/internal/store"
)

// newPortalWithDev creates a portal through the API and a developer in it
// through the store (developers sign up at the portal, not the API).
func newPortalWithDev(t *testing.T, h *harness, tok, email string) (portalJSON, store.Developer) {
	t.Helper()
	var p portalJSON
	h.call(http.MethodPost, "/v3/portals", tok, map[string]any{"name": "sso-" + strings.Split(email, "@")[0]}).expect(t, http.StatusCreated).decode(t, &p)
	d := store.Developer{ID: uuid.Must(uuid.NewV7()).String(), PortalID: p.ID, OrgID: orgOfPortal(t, h, p.ID), Email: email, FullName: "Dev",
		Status: store.DeveloperApproved, CreatedAt: h.clk.Now(), UpdatedAt: h.clk.Now()}
	if err := h.st.CreateDeveloper(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	return p, d
}

func orgOfPortal(t *testing.T, h *harness, portalID string) string {
	t.Helper()
	var org string
	orgs, _ := h.st.ListOrgs(context.Background())
	for _, o := range orgs {
		if _, err := h.st.GetPortal(context.Background(), o.ID, portalID); err == nil {
			org = o.ID
		}
	}
	return org
}

func TestPortalAuthSettingsAndIdentityProviders(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{PortalDomainSuffix: "portals.example.net"})
	_, tok := h.org("o")
	_, otherTok := h.org("other")
	p, _ := newPortalWithDev(t, h, tok, "ada@example.com")
	settings := "/v3/portals/" + p.ID + "/authentication-settings"
	idps := "/v3/portals/" + p.ID + "/identity-providers"

	var a authSettingsJSON
	h.call(http.MethodGet, settings, tok, nil).expect(t, http.StatusOK).decode(t, &a)
	if !a.BasicAuthEnabled || a.OIDCAuthEnabled || a.IDPMappingEnabled || !a.KonnectMappingEnabled || !a.SSOSignUpEnabled || a.OIDCConfig != nil {
		t.Fatalf("defaults %+v", a)
	}
	h.call(http.MethodGet, settings, otherTok, nil).problem(t, http.StatusNotFound)
	// OIDC cannot be turned on without a provider; SAML is refused clearly.
	h.call(http.MethodPatch, settings, tok, map[string]any{"oidc_auth_enabled": true}).problem(t, http.StatusBadRequest)
	pr := h.call(http.MethodPatch, settings, tok, map[string]any{"saml_auth_enabled": true}).problem(t, http.StatusBadRequest)
	if !strings.Contains(string(h.call(http.MethodPost, idps, tok, map[string]any{"type": "saml", "config": map[string]any{"idp_metadata_url": "https://idp.example/meta"}}).problem(t, http.StatusBadRequest)["invalid_parameters"].([]any)[0].(map[string]any)["reason"].(string)), "not supported") || pr == nil {
		t.Fatal("SAML is not answered as not supported")
	}

	// Issuers follow the destination rules: https and a public host.
	for _, bad := range []string{"http://idp.example.com", "https://127.0.0.1/", "https://localhost:8443", "https://[::1]/", "https://10.0.0.8", "ftp://idp.example.com", "https://u:p@idp.example.com"} {
		h.call(http.MethodPost, idps, tok, map[string]any{"type": "oidc", "config": map[string]any{"issuer_url": bad, "client_id": "c"}}).problem(t, http.StatusBadRequest)
	}
	h.call(http.MethodPost, idps, tok, map[string]any{"type": "oidc", "config": map[string]any{"issuer_url": "https://idp.example.com", "client_id": "c", "scopes": []string{"email"}}}).problem(t, http.StatusBadRequest)

	var idp idpJSON
	res := h.call(http.MethodPost, idps, tok, map[string]any{"type": "oidc", "enabled": true, "config": map[string]any{
		"issuer_url": "https://idp.example.com/oauth2/default", "client_id": "portal-client", "client_secret": "TOP-SECRET-42",
		"claim_mappings": map[string]any{"groups": "roles"}}}).expect(t, http.StatusCreated)
	if strings.Contains(string(res.Body), "TOP-SECRET") {
		t.Fatalf("the client secret was answered: %s", res.Body)
	}
	res.decode(t, &idp)
	if !idp.Enabled || idp.Config.ClaimMappings.Groups != "roles" || idp.Config.ClaimMappings.Email != "email" || strings.Join(idp.Config.Scopes, " ") != "email openid profile" {
		t.Fatalf("created %+v", idp)
	}
	stored, _ := h.st.GetIdentityProvider(context.Background(), p.ID, idp.ID)
	if stored.ClientSecret != "TOP-SECRET-42" {
		t.Fatalf("stored secret %q", stored.ClientSecret)
	}
	h.call(http.MethodPost, idps, tok, map[string]any{"type": "oidc", "config": map[string]any{"issuer_url": "https://idp2.example.com", "client_id": "x"}}).problem(t, http.StatusConflict)
	var list []idpJSON
	h.call(http.MethodGet, idps+"?filter%5Btype%5D%5Beq%5D=oidc", tok, nil).expect(t, http.StatusOK).decode(t, &list)
	if len(list) != 1 || list[0].ID != idp.ID {
		t.Fatalf("list %+v", list)
	}
	h.call(http.MethodGet, idps+"/"+idp.ID, otherTok, nil).problem(t, http.StatusNotFound)
	// PATCH keeps the secret unless given; an empty body changes nothing.
	h.call(http.MethodPatch, idps+"/"+idp.ID, tok, map[string]any{"enabled": false, "config": map[string]any{"client_id": "portal-client-2"}}).expect(t, http.StatusOK).decode(t, &idp)
	stored, _ = h.st.GetIdentityProvider(context.Background(), p.ID, idp.ID)
	if idp.Enabled || stored.ClientID != "portal-client-2" || stored.ClientSecret != "TOP-SECRET-42" {
		t.Fatalf("after PATCH %+v, stored %+v", idp, stored)
	}

	h.call(http.MethodPatch, settings, tok, map[string]any{"basic_auth_enabled": false, "oidc_auth_enabled": true, "idp_mapping_enabled": true, "sso_sign_up_enabled": false}).
		expect(t, http.StatusOK).decode(t, &a)
	if a.BasicAuthEnabled || !a.OIDCAuthEnabled || !a.IDPMappingEnabled || !a.OIDCTeamMappingEnabled || a.KonnectMappingEnabled || a.SSOSignUpEnabled ||
		a.OIDCConfig == nil || a.OIDCConfig.Issuer != "https://idp.example.com/oauth2/default" {
		t.Fatalf("patched %+v", a)
	}
	h.call(http.MethodPatch, settings, tok, map[string]any{"idp_mapping_enabled": true, "konnect_mapping_enabled": true}).problem(t, http.StatusBadRequest)
	h.call(http.MethodPatch, settings, tok, map[string]any{"oidc_issuer": "http://plain.example.com"}).problem(t, http.StatusBadRequest)
	h.call(http.MethodPatch, settings, tok, map[string]any{"oidc_client_id": "via-deprecated"}).expect(t, http.StatusOK).decode(t, &a)
	if a.OIDCConfig.ClientID != "via-deprecated" {
		t.Fatalf("deprecated field ignored: %+v", a.OIDCConfig)
	}

	// Team-group mappings.
	var team teamJSON
	h.call(http.MethodPost, "/v3/portals/"+p.ID+"/teams", tok, map[string]any{"name": "Engineers"}).expect(t, http.StatusCreated).decode(t, &team)
	maps := idps + "/" + idp.ID + "/team-group-mappings"
	var m mappingJSON
	h.call(http.MethodPost, maps, tok, map[string]any{"team_id": team.ID, "group": "eng"}).expect(t, http.StatusCreated).decode(t, &m)
	h.call(http.MethodPost, maps, tok, map[string]any{"team_id": team.ID, "group": "eng"}).problem(t, http.StatusConflict)
	h.call(http.MethodPost, maps, tok, map[string]any{"team_id": uuid.NewString(), "group": "eng"}).problem(t, http.StatusBadRequest)
	h.call(http.MethodPost, maps, tok, map[string]any{"team_id": team.ID, "group": "leads"}).expect(t, http.StatusCreated)
	var ml struct {
		Data []mappingJSON `json:"data"`
		Meta struct {
			Page cursorMeta `json:"page"`
		} `json:"meta"`
	}
	h.call(http.MethodGet, maps+"?page%5Bsize%5D=1", tok, nil).expect(t, http.StatusOK).decode(t, &ml)
	if len(ml.Data) != 1 || ml.Data[0].ID != m.ID || ml.Meta.Page.Next == nil {
		t.Fatalf("first page %+v", ml)
	}
	h.call(http.MethodGet, *ml.Meta.Page.Next, tok, nil).expect(t, http.StatusOK).decode(t, &ml)
	if len(ml.Data) != 1 || ml.Data[0].Group != "leads" || ml.Meta.Page.Next != nil || ml.Meta.Page.Previous == nil {
		t.Fatalf("second page %+v", ml)
	}
	h.call(http.MethodGet, maps+"?filter%5Bgroup%5D%5Beq%5D=eng", tok, nil).expect(t, http.StatusOK).decode(t, &ml)
	if len(ml.Data) != 1 || ml.Data[0].ID != m.ID {
		t.Fatalf("filtered %+v", ml)
	}
	h.call(http.MethodGet, maps+"/"+m.ID, tok, nil).expect(t, http.StatusOK)
	h.call(http.MethodDelete, maps+"/"+m.ID, tok, nil).expect(t, http.StatusNoContent)
	h.call(http.MethodGet, maps+"/"+m.ID, tok, nil).problem(t, http.StatusNotFound)

	// Kong's grouped view of the same mappings: each named team's groups
	// are replaced; others are left alone.
	grouped := "/v3/portals/" + p.ID + "/identity-provider/team-group-mappings"
	var g struct {
		Data []teamGroupsJSON `json:"data"`
		Meta pageMeta         `json:"meta"`
	}
	h.call(http.MethodGet, grouped, tok, nil).expect(t, http.StatusOK).decode(t, &g)
	if len(g.Data) != 1 || g.Data[0].TeamID != team.ID || strings.Join(g.Data[0].Groups, ",") != "leads" || g.Meta.Page.Total != 1 {
		t.Fatalf("grouped %+v", g)
	}
	var ops teamJSON
	h.call(http.MethodPost, "/v3/portals/"+p.ID+"/teams", tok, map[string]any{"name": "Ops"}).expect(t, http.StatusCreated).decode(t, &ops)
	h.call(http.MethodPatch, grouped, tok, map[string]any{"data": []any{
		map[string]any{"team_id": ops.ID, "groups": []string{"sre", "oncall", "sre"}},
		map[string]any{"team_id": team.ID, "groups": []string{"leads", "eng"}},
	}}).expect(t, http.StatusOK).decode(t, &g)
	if len(g.Data) != 2 || g.Data[0].TeamID != team.ID || strings.Join(g.Data[0].Groups, ",") != "leads,eng" || strings.Join(g.Data[1].Groups, ",") != "sre,oncall" {
		t.Fatalf("after PATCH %+v", g)
	}
	h.call(http.MethodPatch, grouped, tok, map[string]any{"data": []any{map[string]any{"team_id": ops.ID, "groups": []string{}}}}).expect(t, http.StatusOK).decode(t, &g)
	if len(g.Data) != 1 || g.Data[0].TeamID != team.ID {
		t.Fatalf("after emptying Ops %+v", g)
	}
	for _, bad := range []any{
		map[string]any{"data": []any{map[string]any{"team_id": "nope", "groups": []string{"x"}}}},
		map[string]any{"data": []any{map[string]any{"team_id": uuid.NewString(), "groups": []string{"x"}}}},
		map[string]any{"data": []any{map[string]any{"team_id": team.ID, "groups": []string{""}}}},
	} {
		h.call(http.MethodPatch, grouped, tok, bad).problem(t, http.StatusBadRequest)
	}

	h.call(http.MethodDelete, idps+"/"+idp.ID, tok, nil).expect(t, http.StatusNoContent)
	h.call(http.MethodGet, grouped, tok, nil).problem(t, http.StatusBadRequest) // no provider
	h.call(http.MethodGet, idps+"/"+idp.ID, tok, nil).problem(t, http.StatusNotFound)
	a = authSettingsJSON{}
	h.call(http.MethodGet, settings, tok, nil).expect(t, http.StatusOK).decode(t, &a)
	if a.OIDCAuthEnabled || a.OIDCConfig != nil {
		t.Fatalf("OIDC still on without a provider: %+v", a)
	}
}

// With the development flag, loopback and http:// issuers are accepted
// (the SSO tests run their provider on 127.0.0.1).
func TestIdentityProviderIssuerWithInsecureDestinations(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{PortalDomainSuffix: "portals.example.net", InsecureDestinations: true})
	_, tok := h.org("o")
	p, _ := newPortalWithDev(t, h, tok, "ada@example.com")
	h.call(http.MethodPost, "/v3/portals/"+p.ID+"/identity-providers", tok, map[string]any{"type": "oidc", "config": map[string]any{
		"issuer_url": "http://127.0.0.1:5556/dex", "client_id": "c"}}).expect(t, http.StatusCreated)
}

func TestPortalTeams(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{PortalDomainSuffix: "portals.example.net"})
	_, tok := h.org("o")
	_, otherTok := h.org("other")
	p, ada := newPortalWithDev(t, h, tok, "ada@example.com")
	teams := "/v3/portals/" + p.ID + "/teams"

	var a, b teamJSON
	h.call(http.MethodPost, teams, tok, map[string]any{"name": "Partners", "description": "Partner APIs", "can_own_applications": true}).expect(t, http.StatusCreated).decode(t, &a)
	h.call(http.MethodPost, teams, tok, map[string]any{"name": "Internal", "description": "Internal APIs"}).expect(t, http.StatusCreated).decode(t, &b)
	h.call(http.MethodPost, teams, tok, map[string]any{"name": "Partners", "description": "again"}).problem(t, http.StatusBadRequest)
	for _, bad := range []map[string]any{{}, {"name": ""}, {"name": strings.Repeat("n", 251)}, {"name": "x", "description": ""}, {"name": "x", "extra": 1}} {
		h.call(http.MethodPost, teams, tok, bad).problem(t, http.StatusBadRequest)
	}
	h.call(http.MethodGet, teams+"/"+a.ID, otherTok, nil).problem(t, http.StatusNotFound)
	var l struct {
		Data []teamJSON `json:"data"`
		Meta pageMeta   `json:"meta"`
	}
	h.call(http.MethodGet, teams+"?page%5Bsize%5D=1&page%5Bnumber%5D=2", tok, nil).expect(t, http.StatusOK).decode(t, &l)
	if len(l.Data) != 1 || l.Data[0].ID != b.ID || l.Meta.Page.Total != 2 {
		t.Fatalf("page 2 %+v", l)
	}
	h.call(http.MethodGet, teams+"?filter%5Bname%5D%5Bcontains%5D=part", tok, nil).expect(t, http.StatusOK).decode(t, &l)
	if len(l.Data) != 1 || l.Data[0].ID != a.ID {
		t.Fatalf("filtered %+v", l)
	}
	h.call(http.MethodGet, teams+"?filter%5Bcan_own_applications%5D%5Beq%5D=false", tok, nil).expect(t, http.StatusOK).decode(t, &l)
	if len(l.Data) != 1 || l.Data[0].ID != b.ID {
		t.Fatalf("filtered by can_own_applications %+v", l)
	}
	h.call(http.MethodPatch, teams+"/"+b.ID, tok, map[string]any{"description": "Internal only"}).expect(t, http.StatusOK).decode(t, &b)
	if b.Description != "Internal only" || b.Name != "Internal" {
		t.Fatalf("patched %+v", b)
	}
	h.call(http.MethodPatch, teams+"/"+b.ID, tok, map[string]any{"name": "Partners"}).problem(t, http.StatusBadRequest)

	members := teams + "/" + a.ID + "/developers"
	h.call(http.MethodPost, members, tok, map[string]any{"id": ada.ID}).expect(t, http.StatusCreated)
	h.call(http.MethodPost, members, tok, map[string]any{"id": ada.ID}).problem(t, http.StatusConflict)
	h.call(http.MethodPost, members, tok, map[string]any{"id": uuid.NewString()}).problem(t, http.StatusBadRequest)
	h.call(http.MethodPost, members, tok, map[string]any{"id": "nope"}).problem(t, http.StatusBadRequest)
	h.call(http.MethodPost, teams+"/"+b.ID+"/developers", tok, map[string]any{"id": ada.ID}).expect(t, http.StatusCreated)
	var devs struct {
		Data []basicDeveloperJSON `json:"data"`
	}
	h.call(http.MethodGet, members, tok, nil).expect(t, http.StatusOK).decode(t, &devs)
	if len(devs.Data) != 1 || devs.Data[0].ID != ada.ID || !devs.Data[0].Active || devs.Data[0].Email != "ada@example.com" {
		t.Fatalf("members %+v", devs)
	}
	h.call(http.MethodGet, "/v3/portals/"+p.ID+"/developers/"+ada.ID+"/teams", tok, nil).expect(t, http.StatusOK).decode(t, &l)
	if len(l.Data) != 2 {
		t.Fatalf("developer's teams %+v", l)
	}
	h.call(http.MethodGet, "/v3/portals/"+p.ID+"/developers/"+ada.ID+"/teams?filter%5Bcan_own_applications%5D=true", tok, nil).expect(t, http.StatusOK).decode(t, &l)
	if len(l.Data) != 1 || l.Data[0].ID != a.ID {
		t.Fatalf("developer's teams filtered %+v", l)
	}
	h.call(http.MethodDelete, members+"/"+ada.ID, tok, nil).expect(t, http.StatusNoContent)
	h.call(http.MethodDelete, members+"/"+ada.ID, tok, nil).problem(t, http.StatusNotFound)
	h.call(http.MethodDelete, teams+"/"+b.ID, tok, nil).expect(t, http.StatusNoContent)
	h.call(http.MethodGet, teams+"/"+b.ID, tok, nil).problem(t, http.StatusNotFound)
	h.call(http.MethodGet, "/v3/portals/"+p.ID+"/developers/"+ada.ID+"/teams", tok, nil).expect(t, http.StatusOK).decode(t, &l)
	if len(l.Data) != 0 {
		t.Fatalf("teams after deletions %+v", l)
	}
}
