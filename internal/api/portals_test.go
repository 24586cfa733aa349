package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/sigtrail/sigtrail/internal/store"
)

type portalList struct {
	Data []portalJSON `json:"data"`
	Meta pageMeta     `json:"meta"`
}

func TestPortals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{PortalDomainSuffix: "portals.example.net"})
	_, tok := h.org("o")
	_, otherTok := h.org("other")

	var p portalJSON
	h.call(http.MethodPost, "/v3/portals", tok, map[string]any{"name": "Acme Dev Portal", "description": "for partners", "auto_approve_developers": true}).
		expect(t, http.StatusCreated).decode(t, &p)
	if p.DefaultDomain != "acme-dev-portal.portals.example.net" || p.CanonicalDomain != p.DefaultDomain || p.DisplayName != "Acme Dev Portal" ||
		!p.AuthenticationEnabled || !p.AutoApproveDevelopers || *p.Description != "for partners" || p.DefaultAPIVisibility != "private" {
		t.Fatalf("created %+v", p)
	}
	h.call(http.MethodPost, "/v3/portals", tok, map[string]any{"name": "Acme Dev Portal"}).problem(t, http.StatusConflict)
	// Another org may use the name; the domain, unique across orgs, differs.
	var q portalJSON
	h.call(http.MethodPost, "/v3/portals", otherTok, map[string]any{"name": "Acme Dev Portal"}).expect(t, http.StatusCreated).decode(t, &q)
	if q.DefaultDomain == p.DefaultDomain || !strings.HasPrefix(q.DefaultDomain, "acme-dev-portal-") {
		t.Fatalf("second domain %q", q.DefaultDomain)
	}
	if got, err := h.st.GetPortalByDomain(t.Context(), p.DefaultDomain); err != nil || got.ID != p.ID {
		t.Fatalf("domain lookup %+v %v", got, err)
	}

	// PATCH keeps the domain and what it does not name; a client may send
	// back what it read.
	var u portalJSON
	h.call(http.MethodPatch, "/v3/portals/"+p.ID, tok, map[string]any{
		"id": p.ID, "default_domain": "evil.example", "display_name": "Acme", "authentication_enabled": false, "sipr_enabled": false,
		"default_application_auth_strategy_id": nil, "auto_approve_applications": false,
	}).expect(t, http.StatusOK).decode(t, &u)
	if u.DisplayName != "Acme" || u.AuthenticationEnabled || u.Name != p.Name || u.DefaultDomain != p.DefaultDomain {
		t.Fatalf("patched %+v", u)
	}
	for _, body := range []map[string]any{
		{"sipr_enabled": true}, {"auto_approve_applications": true}, {"labels": map[string]string{"kong-env": "x"}},
		{"default_api_visibility": "secret"}, {"name": ""}, {"display_name": ""}, {"rbac_enabled": true},
		{"description": strings.Repeat("d", 513)}, {"name": 7},
	} {
		h.call(http.MethodPatch, "/v3/portals/"+p.ID, tok, body).problem(t, http.StatusBadRequest)
	}
	h.call(http.MethodPost, "/v3/portals", tok, map[string]any{"display_name": "no name"}).problem(t, http.StatusBadRequest)

	for i := range 4 {
		h.call(http.MethodPost, "/v3/portals", tok, map[string]any{"name": fmt.Sprintf("p%d", i)}).expect(t, http.StatusCreated)
	}
	var l portalList
	h.call(http.MethodGet, "/v3/portals?page%5Bsize%5D=2&page%5Bnumber%5D=2", tok, nil).expect(t, http.StatusOK).decode(t, &l)
	if len(l.Data) != 2 || l.Data[0].Name != "p1" || l.Meta.Page.Total != 5 || l.Meta.Page.Number != 2 {
		t.Fatalf("page 2: %+v", l)
	}
	h.call(http.MethodGet, "/v3/portals?filter%5Bname%5D%5Bcontains%5D=acme", tok, nil).expect(t, http.StatusOK).decode(t, &l)
	if len(l.Data) != 1 || l.Data[0].ID != p.ID {
		t.Fatalf("filtered %+v", l)
	}
	h.call(http.MethodGet, "/v3/portals?page%5Bnumber%5D=0", tok, nil).problem(t, http.StatusBadRequest)
	h.call(http.MethodGet, "/v3/portals?sort=name", tok, nil).problem(t, http.StatusBadRequest)

	h.call(http.MethodDelete, "/v3/portals/"+p.ID, tok, nil).expect(t, http.StatusNoContent)
	h.call(http.MethodGet, "/v3/portals/"+p.ID, tok, nil).problem(t, http.StatusNotFound)
	if h.hooks.changed(store.StreamID(p.ID)) != 1 {
		t.Error("delivery was not told the portal's webhook went")
	}
}

func TestDevelopers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	org, tok := h.org("o")
	var p portalJSON
	h.call(http.MethodPost, "/v3/portals", tok, map[string]any{"name": "dev"}).expect(t, http.StatusCreated).decode(t, &p)
	var ids []string
	for i, status := range []string{store.DeveloperPending, store.DeveloperApproved, store.DeveloperPending} {
		id, _ := newID()
		ids = append(ids, id)
		if err := h.st.CreateDeveloper(t.Context(), store.Developer{ID: id, PortalID: p.ID, OrgID: org, Email: fmt.Sprintf("dev%d@example.com", i),
			FullName: fmt.Sprintf("Dev %d", i), Status: status, PasswordHash: "$argon2id$secret", CreatedAt: epoch, UpdatedAt: epoch}); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.st.CreateDeveloperToken(t.Context(), store.DeveloperToken{Hash: []byte("session-hash-0123456789abcdef012"), DeveloperID: ids[1],
		PortalID: p.ID, Purpose: store.PurposeSession, CreatedAt: epoch, ExpiresAt: epoch.Add(24 * 3600e9)}); err != nil {
		t.Fatal(err)
	}
	base := "/v3/portals/" + p.ID + "/developers"
	var l struct {
		Data []developerJSON `json:"data"`
		Meta pageMeta        `json:"meta"`
	}
	res := h.call(http.MethodGet, base, tok, nil).expect(t, http.StatusOK)
	if strings.Contains(string(res.Body), "argon2") {
		t.Fatal("password hash leaked")
	}
	res.decode(t, &l)
	if len(l.Data) != 3 || l.Meta.Page.Total != 3 {
		t.Fatalf("list %+v", l)
	}
	h.call(http.MethodGet, base+"?filter%5Bstatus%5D%5Beq%5D=pending", tok, nil).expect(t, http.StatusOK).decode(t, &l)
	if len(l.Data) != 2 {
		t.Fatalf("pending %+v", l)
	}
	var d developerJSON
	h.call(http.MethodGet, base+"/"+ids[0], tok, nil).expect(t, http.StatusOK).decode(t, &d)
	if d.Email != "dev0@example.com" || d.Status != "pending" {
		t.Fatalf("get %+v", d)
	}
	h.call(http.MethodPatch, base+"/"+ids[0], tok, map[string]any{"status": "approved"}).expect(t, http.StatusOK).decode(t, &d)
	if d.Status != "approved" {
		t.Fatalf("approve %+v", d)
	}
	h.call(http.MethodPatch, base+"/"+ids[0], tok, map[string]any{"status": "pending"}).problem(t, http.StatusBadRequest)
	h.call(http.MethodPatch, base+"/"+ids[0], tok, map[string]any{"status": "banned"}).problem(t, http.StatusBadRequest)
	// Revoking signs the developer out.
	h.call(http.MethodPatch, base+"/"+ids[1], tok, map[string]any{"status": "revoked"}).expect(t, http.StatusOK)
	if _, err := h.st.GetDeveloperToken(t.Context(), []byte("session-hash-0123456789abcdef012")); err == nil {
		t.Fatal("a revoked developer's session survived")
	}
	h.call(http.MethodDelete, base+"/"+ids[2], tok, nil).expect(t, http.StatusNoContent)
	h.call(http.MethodGet, base+"/"+ids[2], tok, nil).problem(t, http.StatusNotFound)
	h.call(http.MethodGet, base+"/not-a-uuid", tok, nil).problem(t, http.StatusBadRequest)
}
