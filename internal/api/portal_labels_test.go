package api

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestPortalLabels: Kong's declarative tools put labels on every portal
// they manage; they are validated as Kong's schema says, merged on PATCH
// (null removes one, null labels remove all) and filter the list.
func TestPortalLabels(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{PortalDomainSuffix: "portals.example.net"})
	_, tok := h.org("o")

	managed := map[string]any{"KONGCTL-namespace": "default", "KONGCTL-protected": "false", "env": "prod"}
	var p portalJSON
	h.call(http.MethodPost, "/v3/portals", tok, map[string]any{"name": "managed", "labels": managed}).
		expect(t, http.StatusCreated).decode(t, &p)
	if len(p.Labels) != 3 || p.Labels["KONGCTL-namespace"] != "default" {
		t.Fatalf("created labels %v", p.Labels)
	}
	var got portalJSON
	h.call(http.MethodGet, "/v3/portals/"+p.ID, tok, nil).expect(t, http.StatusOK).decode(t, &got)
	if !maps.Equal(got.Labels, p.Labels) {
		t.Fatalf("read labels %v, want %v", got.Labels, p.Labels)
	}
	// A tool sending back what it read, labels included, is accepted.
	h.call(http.MethodPatch, "/v3/portals/"+p.ID, tok, map[string]any{"name": "managed", "labels": got.Labels}).expect(t, http.StatusOK)

	got = portalJSON{} // decoding into a map merges into it
	h.call(http.MethodPatch, "/v3/portals/"+p.ID, tok, map[string]any{"labels": map[string]any{"env": nil, "team": "a.b_c-d"}}).
		expect(t, http.StatusOK).decode(t, &got)
	if want := map[string]string{"KONGCTL-namespace": "default", "KONGCTL-protected": "false", "team": "a.b_c-d"}; !maps.Equal(got.Labels, want) {
		t.Fatalf("merged labels %v, want %v", got.Labels, want)
	}

	var plain portalJSON
	h.call(http.MethodPost, "/v3/portals", tok, map[string]any{"name": "plain"}).expect(t, http.StatusCreated).decode(t, &plain)
	if plain.Labels == nil || len(plain.Labels) != 0 {
		t.Fatalf("no labels answered as %v", plain.Labels)
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"filter[labels][eq]=KONGCTL-namespace:default", []string{p.ID}},
		{"filter[labels]=team:a.b_c-d", []string{p.ID}},
		{"filter[labels][eq]=team", []string{p.ID}},
		{"filter[labels][eq]=team:other", nil},
		{"filter[labels][contains]=kongctl-prot", []string{p.ID}},
		{"filter[name][eq]=plain&filter[labels][eq]=team", nil},
	} {
		q, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		var l portalList
		h.call(http.MethodGet, "/v3/portals?"+q.Encode(), tok, nil).expect(t, http.StatusOK).decode(t, &l)
		var ids []string
		for _, d := range l.Data {
			ids = append(ids, d.ID)
		}
		if fmt.Sprint(ids) != fmt.Sprint(tc.want) {
			t.Errorf("%s: %v, want %v", tc.query, ids, tc.want)
		}
	}

	got = portalJSON{}
	h.call(http.MethodPatch, "/v3/portals/"+p.ID, tok, map[string]any{"labels": nil}).expect(t, http.StatusOK).decode(t, &got)
	if len(got.Labels) != 0 {
		t.Fatalf("labels null left %v", got.Labels)
	}

	tooMany := map[string]any{}
	for i := range 51 {
		tooMany[fmt.Sprintf("k%d", i)] = "v"
	}
	for _, labels := range []any{
		map[string]any{"kong-x": "v"}, map[string]any{"konnect": "v"}, map[string]any{"mesh.a": "v"}, map[string]any{"kicker": "v"},
		map[string]any{"_x": "v"}, map[string]any{"-x": "v"}, map[string]any{"x-": "v"}, map[string]any{"a b": "v"},
		map[string]any{strings.Repeat("k", 64): "v"}, map[string]any{"k": strings.Repeat("v", 64)}, map[string]any{"k": ""},
		map[string]any{"k": "v!"}, map[string]any{"k": 7}, map[string]any{"": "v"}, "text", tooMany,
	} {
		res := h.call(http.MethodPatch, "/v3/portals/"+p.ID, tok, map[string]any{"labels": labels})
		pr := res.problem(t, http.StatusBadRequest)
		if !strings.Contains(string(res.Body), "labels") {
			t.Errorf("labels %v: the problem does not name labels: %v", labels, pr)
		}
	}
	// Nothing of the refused updates was kept.
	got = portalJSON{}
	h.call(http.MethodGet, "/v3/portals/"+p.ID, tok, nil).expect(t, http.StatusOK).decode(t, &got)
	if len(got.Labels) != 0 {
		t.Fatalf("refused labels were stored: %v", got.Labels)
	}
	// Fifty is the limit, not a refusal.
	fifty := map[string]any{}
	for i := range 50 {
		fifty[fmt.Sprintf("k%d", i)] = "v"
	}
	h.call(http.MethodPatch, "/v3/portals/"+p.ID, tok, map[string]any{"labels": fifty}).expect(t, http.StatusOK)
}
