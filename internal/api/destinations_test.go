package api

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

type destOut struct {
	ID                  string `json:"id"`
	Name                string `json:"name"`
	Endpoint            string `json:"endpoint"`
	LogFormat           string `json:"log_format"`
	SkipSSLVerification bool   `json:"skip_ssl_verification"`
}

type destList struct {
	Data []destOut `json:"data"`
	Meta struct {
		Next     *string `json:"next"`
		Previous *string `json:"previous"`
		Size     int     `json:"size"`
	} `json:"meta"`
}

func newDest(name string) map[string]any {
	return map[string]any{"name": name, "endpoint": "https://siem.example.com/in", "authorization": "Bearer s3cret-" + name, "log_format": "json"}
}

func TestDestinationsCRUD(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"/v2", "/v3"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Config{})
			_, tok := h.org("o")
			base := v + "/audit-log-destinations"

			var d destOut
			res := h.call(http.MethodPost, base, tok, newDest("first")).expect(t, http.StatusCreated)
			res.decode(t, &d)
			if d.Name != "first" || d.LogFormat != "json" || d.SkipSSLVerification || d.ID == "" {
				t.Fatalf("created %+v", d)
			}
			var got destOut
			h.call(http.MethodGet, base+"/"+d.ID, tok, nil).expect(t, http.StatusOK).decode(t, &got)
			if got != d {
				t.Fatalf("get %+v, want %+v", got, d)
			}
			// PATCH changes only what it names (turning TLS checks off with
			// the stored secret needs the confirmation: see origin_test.go).
			h.call(http.MethodPatch, base+"/"+d.ID, tok, map[string]any{"log_format": "cps", "skip_ssl_verification": true, "keep_authorization_on_origin_change": true}).
				expect(t, http.StatusOK).decode(t, &got)
			if got.LogFormat != "cps" || !got.SkipSSLVerification || got.Name != "first" || got.Endpoint != d.Endpoint {
				t.Fatalf("patched %+v", got)
			}
			stored, err := h.st.GetDestination(t.Context(), orgOf(t, h, tok), d.ID)
			if err != nil || stored.Authorization != "Bearer s3cret-first" {
				t.Fatalf("authorization not kept: %v %q", err, stored.Authorization)
			}
			// The secret never comes back, in any answer.
			for _, p := range []string{base, base + "/" + d.ID} {
				if r := h.call(http.MethodGet, p, tok, nil); bytes.Contains(r.Body, []byte("s3cret")) {
					t.Fatalf("GET %s leaked the authorization: %s", p, r.Body)
				}
			}
			h.call(http.MethodDelete, base+"/"+d.ID, tok, nil).expect(t, http.StatusNoContent)
			h.call(http.MethodGet, base+"/"+d.ID, tok, nil).problem(t, http.StatusNotFound)
			// Nor is it ever logged, nor in the audit log.
			if strings.Contains(h.logs.String(), "s3cret") {
				t.Fatalf("authorization in the logs: %s", h.logs.String())
			}
			for _, e := range h.entries(orgOf(t, h, tok)) {
				if strings.Contains(fmt.Sprintf("%+v", e.Entry), "s3cret") {
					t.Fatalf("authorization in the audit log: %+v", e.Entry)
				}
			}
			h.call(http.MethodDelete, base+"/"+d.ID, tok, nil).problem(t, http.StatusNotFound)
		})
	}
}

// orgOf finds the org of a token secret through the API's own tenancy.
func orgOf(t *testing.T, h *harness, secret string) string {
	t.Helper()
	tok, err := h.ten.Authenticate(t.Context(), secret)
	if err != nil {
		t.Fatal(err)
	}
	return tok.OrgID
}

func TestDestinationsPagingAndFilters(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	_, tok := h.org("o")
	var ids []string
	for i := range 5 {
		var d destOut
		h.call(http.MethodPost, "/v3/audit-log-destinations", tok, newDest(fmt.Sprintf("dest-%d", i))).expect(t, http.StatusCreated).decode(t, &d)
		ids = append(ids, d.ID)
	}
	// Forwards two at a time, then back again, by following the links.
	var seen []string
	var l destList
	h.call(http.MethodGet, "/v3/audit-log-destinations?page%5Bsize%5D=2", tok, nil).expect(t, http.StatusOK).decode(t, &l)
	if l.Meta.Previous != nil || l.Meta.Size != 2 {
		t.Fatalf("first page meta %+v", l.Meta)
	}
	for {
		for _, d := range l.Data {
			seen = append(seen, d.ID)
		}
		if l.Meta.Next == nil {
			break
		}
		next := *l.Meta.Next
		l = destList{}
		h.call(http.MethodGet, next, tok, nil).expect(t, http.StatusOK).decode(t, &l)
	}
	if strings.Join(seen, ",") != strings.Join(ids, ",") {
		t.Fatalf("paged %v, want %v", seen, ids)
	}
	if l.Meta.Previous == nil {
		t.Fatal("last page has no previous link")
	}
	prev := *l.Meta.Previous
	l = destList{}
	h.call(http.MethodGet, prev, tok, nil).expect(t, http.StatusOK).decode(t, &l)
	if len(l.Data) != 2 || l.Data[0].ID != ids[2] || l.Data[1].ID != ids[3] || l.Meta.Next == nil || l.Meta.Previous == nil {
		t.Fatalf("previous page %+v", l)
	}

	for _, tc := range []struct {
		path string
		want int
	}{
		{"/v3/audit-log-destinations?filter[name][eq]=dest-3", 1},
		{"/v3/audit-log-destinations?filter[name][contains]=DEST", 5},
		{"/v3/audit-log-destinations?filter[name][eq]=nope", 0},
		{"/v2/audit-log-destinations?filter[name]=dest-1", 1},
		{"/v2/audit-log-destinations?filter[name][contains]=t-4", 1},
	} {
		var l destList
		u, _ := url.Parse(tc.path)
		h.call(http.MethodGet, u.Path+"?"+u.Query().Encode(), tok, nil).expect(t, http.StatusOK).decode(t, &l)
		if len(l.Data) != tc.want {
			t.Errorf("%s: %d items, want %d", tc.path, len(l.Data), tc.want)
		}
	}
	for _, q := range []string{"page[size]=0", "page[size]=x", "page[size]=1001", "page[after]=bogus", "filter[endpoint][eq]=x", "filter[name][neq]=x",
		"page[after]=" + encodeCursor(ids[0]) + "&page[before]=" + encodeCursor(ids[1])} {
		u, _ := url.ParseQuery(q)
		h.call(http.MethodGet, "/v3/audit-log-destinations?"+u.Encode(), tok, nil).problem(t, http.StatusBadRequest)
	}
}

func TestDestinationValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	_, tok := h.org("o")
	dev := newHarness(t, Config{InsecureDestinations: true})
	_, devTok := dev.org("o")
	for _, tc := range []struct {
		name      string
		body      map[string]any
		field     string
		devAccept bool // accepted with --insecure-destinations
	}{
		{"plain http", map[string]any{"endpoint": "http://siem.example.com/in"}, "endpoint", true},
		{"loopback", map[string]any{"endpoint": "https://127.0.0.1:8443/in"}, "endpoint", true},
		{"ipv6 loopback", map[string]any{"endpoint": "https://[::1]/in"}, "endpoint", true},
		{"private", map[string]any{"endpoint": "https://10.1.2.3/in"}, "endpoint", true},
		{"link-local", map[string]any{"endpoint": "https://169.254.169.254/latest"}, "endpoint", true},
		{"localhost", map[string]any{"endpoint": "https://localhost/in"}, "endpoint", true},
		{"ftp", map[string]any{"endpoint": "ftp://siem.example.com/in"}, "endpoint", false},
		{"no host", map[string]any{"endpoint": "https:///in"}, "endpoint", false},
		{"not a url", map[string]any{"endpoint": "siem.example.com"}, "endpoint", false},
		{"credentials in url", map[string]any{"endpoint": "https://u:p@siem.example.com/"}, "endpoint", false},
		{"blank endpoint", map[string]any{"endpoint": ""}, "endpoint", false},
		{"missing endpoint", map[string]any{"endpoint": nil}, "endpoint", false},
		{"missing authorization", map[string]any{"authorization": nil}, "authorization", false},
		{"header injection", map[string]any{"authorization": "Bearer x\r\nX-Evil: 1"}, "authorization", false},
		{"unknown log format", map[string]any{"log_format": "xml"}, "log_format", false},
		{"missing log format", map[string]any{"log_format": nil}, "log_format", false},
		{"blank name", map[string]any{"name": "  "}, "name", false},
		{"long name", map[string]any{"name": strings.Repeat("n", 256)}, "name", false},
		{"wrong type", map[string]any{"skip_ssl_verification": "yes"}, "skip_ssl_verification", false},
		{"unknown field", map[string]any{"colour": "red"}, "colour", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := newDest("d")
			for k, v := range tc.body {
				if v == nil {
					delete(body, k)
				} else {
					body[k] = v
				}
			}
			p := h.call(http.MethodPost, "/v3/audit-log-destinations", tok, body).problem(t, http.StatusBadRequest)
			params, _ := p["invalid_parameters"].([]any)
			if len(params) == 0 || params[0].(map[string]any)["field"] != tc.field {
				t.Errorf("invalid_parameters %v, want field %s", p["invalid_parameters"], tc.field)
			}
			want := http.StatusBadRequest
			if tc.devAccept {
				want = http.StatusCreated
			}
			dev.call(http.MethodPost, "/v3/audit-log-destinations", devTok, body).expect(t, want)
		})
	}
}

func TestDestinationInUse(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	_, tok := h.org("o")
	var d destOut
	h.call(http.MethodPost, "/v3/audit-log-destinations", tok, newDest("d")).expect(t, http.StatusCreated).decode(t, &d)
	h.call(http.MethodPatch, "/v3/audit-log-webhook", tok, map[string]any{"audit_log_destination_id": d.ID}).expect(t, http.StatusOK)
	p := h.call(http.MethodDelete, "/v3/audit-log-destinations/"+d.ID, tok, nil).problem(t, http.StatusConflict)
	if detail, _ := p["detail"].(string); !strings.Contains(detail, "org audit log webhook") {
		t.Errorf("detail %q does not say what uses it", detail)
	}
	// A rename leaves delivery alone: telling it would stop a request in
	// flight to the destination, and that batch would be sent twice.
	before := h.hooks.changed(streamOfOrg(t, h, tok))
	h.call(http.MethodPatch, "/v3/audit-log-destinations/"+d.ID, tok, map[string]any{"name": "renamed"}).expect(t, http.StatusOK)
	if h.hooks.changed(streamOfOrg(t, h, tok)) != before {
		t.Error("delivery was told of a rename as of a change")
	}
	if h.hooks.rechecked(streamOfOrg(t, h, tok)) != 1 {
		t.Error("delivery was not asked to check its webhook after a rename")
	}
	// Changing how it delivers tells delivery about its webhook.
	h.call(http.MethodPatch, "/v3/audit-log-destinations/"+d.ID, tok, map[string]any{"endpoint": "https://other.example.com/", "authorization": "Bearer other"}).expect(t, http.StatusOK)
	if h.hooks.changed(streamOfOrg(t, h, tok)) != before+1 {
		t.Error("delivery was not told the destination changed")
	}
	h.call(http.MethodDelete, "/v3/audit-log-webhook", tok, nil).expect(t, http.StatusNoContent)
	h.call(http.MethodDelete, "/v3/audit-log-destinations/"+d.ID, tok, nil).expect(t, http.StatusNoContent)
}
