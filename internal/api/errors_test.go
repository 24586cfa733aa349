package api

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/signing"
	"github.com/sigtrail/sigtrail/internal/store"
)

// fixture is one org's resources, for filling path parameters.
type fixture struct {
	org, token                        string
	destID, portalID, devID, destName string
	pageID, snippetID                 string // portal content
}

func (h *harness) fixture(t testing.TB, name string) fixture {
	t.Helper()
	org, tok := h.org(name)
	f := fixture{org: org, token: tok, destName: "dest-of-" + name}
	var d destOut
	h.call(http.MethodPost, "/v3/audit-log-destinations", tok, newDest(f.destName)).expect(t, http.StatusCreated).decode(t, &d)
	var p portalJSON
	h.call(http.MethodPost, "/v3/portals", tok, map[string]any{"name": "portal-of-" + name}).expect(t, http.StatusCreated).decode(t, &p)
	h.call(http.MethodPatch, "/v3/audit-log-webhook", tok, map[string]any{"audit_log_destination_id": d.ID, "enabled": true}).expect(t, http.StatusOK)
	h.call(http.MethodPatch, "/v3/portals/"+p.ID+"/audit-log-webhook", tok, map[string]any{"audit_log_destination_id": d.ID, "enabled": true}).expect(t, http.StatusOK)
	h.call(http.MethodPost, "/v3/portals/"+p.ID+"/custom-domain", tok, map[string]any{"hostname": "developers." + name + ".example",
		"enabled": true, "ssl": map[string]any{"domain_verification_method": "http"}}).expect(t, http.StatusCreated)
	dev, _ := newID()
	if err := h.st.CreateDeveloper(t.Context(), store.Developer{ID: dev, PortalID: p.ID, OrgID: org, Email: "dev@" + name + ".example",
		FullName: "Dev of " + name, Status: store.DeveloperApproved, CreatedAt: epoch, UpdatedAt: epoch}); err != nil {
		t.Fatal(err)
	}
	f.destID, f.portalID, f.devID = d.ID, p.ID, dev
	var pg pageJSON
	h.call(http.MethodPost, "/v3/portals/"+p.ID+"/pages", tok, map[string]any{"slug": "p", "content": "x"}).expect(t, http.StatusCreated).decode(t, &pg)
	var sn snippetJSON
	h.call(http.MethodPost, "/v3/portals/"+p.ID+"/snippets", tok, map[string]any{"name": "s", "content": "x"}).expect(t, http.StatusCreated).decode(t, &sn)
	f.pageID, f.snippetID = pg.ID, sn.ID
	return f
}

// path fills a route's parameters with the fixture's IDs.
func (f fixture) path(pattern string) string {
	// Sizes and sequence numbers past any test log: the answer is a 404.
	return strings.NewReplacer("{auditLogDestinationId}", f.destID, "{portalId}", f.portalID, "{developerId}", f.devID,
		"{size}", "1000000", "{seq}", "1000000", "{pageId}", f.pageID, "{snippetId}", f.snippetID).Replace(pattern)
}

// TestMalformedBodies feeds bad bodies to every write route: each answer
// is a 4xx problem+json, never a 5xx.
func TestMalformedBodies(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{MaxBodyBytes: 64 << 10})
	f := h.fixture(t, "o")
	bodies := []struct {
		name, body, contentType string
	}{
		{"truncated", `{"name":`, "application/json"},
		{"not json", `name=x`, "application/json"},
		{"array", `[]`, "application/json"},
		{"string", `"x"`, "application/json"},
		{"null", `null`, "application/json"},
		{"two values", `{} {}`, "application/json"},
		{"unknown field", `{"definitely_unknown":1}`, "application/json"},
		{"wrong types", `{"name":{"a":1},"enabled":"yes","endpoint":5,"status":[],"start_at":false,"audit_log_destination_id":7}`, "application/json"},
		{"bad uuid", `{"audit_log_destination_id":"../../etc"}`, "application/json"},
		{"deep nesting", strings.Repeat("[", 5000), "application/json"},
		{"invalid utf-8", "{\"name\":\"\xff\xfe\"}", "application/json"},
		{"form", `a=b`, "application/x-www-form-urlencoded"},
		{"too large", `{"name":"` + strings.Repeat("a", 70<<10) + `"}`, "application/json"},
	}
	n := 0
	for _, rt := range h.api.routes() {
		if rt.method != http.MethodPost && rt.method != http.MethodPatch && rt.method != http.MethodPut {
			continue
		}
		n++
		for _, b := range bodies {
			res := h.callWith(rt.method, f.path(rt.path), f.token, []byte(b.body), map[string]string{"Content-Type": b.contentType})
			if res.Status < 400 || res.Status > 499 {
				t.Errorf("%s %s with %s: %d: %s", rt.method, rt.path, b.name, res.Status, res.Body)
				continue
			}
			res.problem(t, res.Status)
			if b.name == "too large" && res.Status != http.StatusRequestEntityTooLarge && !strings.HasPrefix(rt.path, "/v1/") {
				t.Errorf("%s %s too large: %d", rt.method, rt.path, res.Status)
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d write routes found", n)
	}
}

// FuzzWriteBodies sends arbitrary bodies to the JSON write routes.
func FuzzWriteBodies(f *testing.F) {
	h := newHarness(f, Config{InsecureDestinations: true})
	fx := h.fixture(f, "o")
	for _, s := range []string{`{}`, `{"name":"x","endpoint":"https://a.example","authorization":"b","log_format":"cef"}`,
		`{"enabled":true}`, `{"status":"revoked"}`, `{"name":null}`, `{"endpoint":"http://[::1"}`, `{"display_name":"\u0000"}`} {
		f.Add(s)
	}
	targets := []struct{ method, path string }{
		{http.MethodPost, "/v3/audit-log-destinations"},
		{http.MethodPatch, fx.path("/v2/audit-log-destinations/{auditLogDestinationId}")},
		{http.MethodPatch, "/v2/audit-log-webhook"},
		{http.MethodPatch, "/v3/audit-log-webhook"},
		{http.MethodPost, "/v3/portals"},
		{http.MethodPatch, fx.path("/v3/portals/{portalId}")},
		{http.MethodPatch, fx.path("/v3/portals/{portalId}/audit-log-webhook")},
		{http.MethodPatch, fx.path("/v3/portals/{portalId}/developers/{developerId}")},
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, tg := range targets {
			h.t = t
			res := h.call(tg.method, tg.path, fx.token, body)
			if res.Status >= 400 {
				res.problem(t, res.Status)
			}
		}
	})
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	org, tok := h.org("o")
	for _, tc := range []struct {
		method, path, secret string
		status               int
		allow                string
	}{
		{http.MethodGet, "/nope", tok, 404, ""},
		{http.MethodGet, "/nope", "", 404, ""},
		{http.MethodGet, "/v3/portals/", tok, 404, ""},
		{http.MethodDelete, "/v3/portals", tok, 405, "GET, HEAD, POST"},
		{http.MethodPut, "/v3/audit-log-destinations/0193d4a8-9b8e-7c4f-8a4e-1e2f3a4b5c6d", tok, 405, "GET, HEAD, PATCH, DELETE"},
		{http.MethodPost, "/healthz", "", 405, "GET, HEAD"},
		{http.MethodGet, "/v3/audit-log-destinations/not-a-uuid", tok, 400, ""},
		{http.MethodGet, "/v3/audit-log-destinations/0193D4A8-9B8E-7C4F-8A4E-1E2F3A4B5C6D", tok, 404, ""},
	} {
		res := h.call(tc.method, tc.path, tc.secret, nil)
		res.problem(t, tc.status)
		if tc.allow != "" && res.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, res.Header.Get("Allow"), tc.allow)
		}
	}
	// Unknown routes are audited too, in the caller's org when it has one.
	res := h.call(http.MethodGet, "/v3/secret-admin", tok, nil)
	es := requestEntries(h.entries(org), res.Header.Get("X-Sigtrail-Trace-Id"))
	if len(es) != 2 || es[1].Status != 404 || es[1].Request != "/v3/secret-admin" {
		t.Fatalf("entries of an unknown route %+v", es)
	}
}

// TestMalformedQueries: a query that url.Values would read only in part
// (a pair it cannot decode is dropped, of a repeated parameter only the
// first value counts) is a 400 naming the parameter, never an answer that
// silently ignores what the client sent. The refusal is audited.
func TestMalformedQueries(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	org, tok := h.org("o")
	for _, tc := range []struct {
		path, field string
	}{
		{"/v3/audit-logs?filter%5Btype%5D=authorization%zz", "filter[type]"},
		{"/v3/audit-logs?page%5Bsize%5D=1;filter%5Btype%5D=authorization", "page[size]"},
		{"/v3/audit-logs?filter%5Btype%5D=authorization&filter%5Btype%5D=authentication", "filter[type]"},
		{"/v3/audit-logs?filter%5Bts%5D%5Bgte%5D=2026-03-01T00%3A00%3A00Z&filter%5Bts%5D%5Bgte%5D=2026-02-28T00%3A00%3A00Z", "filter[ts][gte]"},
		{"/v3/audit-log-destinations?page%5Bsize%5D=1&page%5Bsize%5D=1000", "page[size]"},
		{"/v3/portals?filter%5Bname%zz=x", "filter%5Bname%zz"},
		{"/v3/audit-log-tree/checkpoint?delivered=%", "delivered"},
	} {
		res := h.call(http.MethodGet, tc.path, tok, nil)
		p := res.problem(t, http.StatusBadRequest)
		params, _ := p["invalid_parameters"].([]any)
		if len(params) != 1 || params[0].(map[string]any)["field"] != tc.field || params[0].(map[string]any)["source"] != "query" {
			t.Errorf("%s: invalid_parameters %v, want the query parameter %s", tc.path, params, tc.field)
		}
		es := requestEntries(h.entries(org), res.Header.Get("X-Sigtrail-Trace-Id"))
		if len(es) != 3 || es[2].Status != http.StatusBadRequest {
			t.Errorf("%s: audited as %+v, want authentication, authorization and a 400 access entry", tc.path, es)
		}
	}
	// Well-formed queries pass: an escaped ";" or "%", a value repeated as it was.
	for _, path := range []string{
		"/v3/portals?filter%5Bname%5D=a%3Bb%25",
		"/v3/audit-logs?filter%5Btype%5D=authorization&filter%5Btype%5D=authorization",
		"/v3/audit-logs?&page%5Bsize%5D=5&",
	} {
		h.call(http.MethodGet, path, tok, nil).expect(t, http.StatusOK)
	}
	// A page number far past the end is an empty page, not an overflowed
	// offset (a panic, answered 500).
	for _, path := range []string{"/v3/portals", "/v3/portals/" + portalOf(t, h, tok) + "/snippets"} {
		for _, q := range []string{"page%5Bnumber%5D=9223372036854775807&page%5Bsize%5D=100", "page%5Bnumber%5D=4611686018427387905&page%5Bsize%5D=2"} {
			var page struct {
				Data []any `json:"data"`
			}
			h.call(http.MethodGet, path+"?"+q, tok, nil).expect(t, http.StatusOK).decode(t, &page)
			if len(page.Data) != 0 {
				t.Errorf("%s?%s: %d items, want none", path, q, len(page.Data))
			}
		}
	}
	// An unknown route stays a 404, whatever its query; public routes read
	// no parameters and answer as ever.
	h.call(http.MethodGet, "/v3/nope?a=%zz", tok, nil).problem(t, http.StatusNotFound)
	h.call(http.MethodGet, "/v2/audit-log-webhook/jwks.json?a=%zz&a=1&a=2", "", nil).expect(t, http.StatusOK)
}

// portalOf creates a portal and returns its id.
func portalOf(t *testing.T, h *harness, tok string) string {
	t.Helper()
	var p portalJSON
	h.call(http.MethodPost, "/v3/portals", tok, map[string]any{"name": "paged"}).expect(t, http.StatusCreated).decode(t, &p)
	return p.ID
}

func TestPublicRoutes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	res := h.call(http.MethodGet, "/v2/audit-log-webhook/jwks.json", "", nil).expect(t, 200)
	if !bytes.Contains(res.Body, []byte(`"crv":"Ed25519"`)) {
		t.Errorf("jwks %s", res.Body)
	}
	// A rotated key is published here within one reload period and signs
	// after ActivationDelay: a verifier's cached copy must expire in time
	// to see it before its first line arrives.
	cc := res.Header.Get("Cache-Control")
	age, err := strconv.Atoi(strings.TrimPrefix(cc, "public, max-age="))
	if err != nil || age <= 0 || time.Duration(age)*time.Second+signing.DefaultReloadEvery > signing.ActivationDelay {
		t.Errorf("JWKS Cache-Control %q: a SIEM would miss a rotated key (reload %s, activation %s)", cc, signing.DefaultReloadEvery, signing.ActivationDelay)
	}
	h.call(http.MethodGet, "/healthz", "", nil).expect(t, 200)
	h.call(http.MethodGet, "/metrics", "", nil).problem(t, 404)
	res = h.call(http.MethodGet, "/openapi.yaml", "", nil).expect(t, 200)
	if !bytes.Equal(res.Body, openAPIDoc) || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/yaml") {
		t.Errorf("openapi.yaml served wrong")
	}
	// Public routes write nothing to any log.
	orgs, err := h.st.ListOrgs(t.Context())
	if err != nil || len(orgs) != 0 {
		t.Errorf("public requests created orgs %v %v", orgs, err)
	}

	withMetrics := New(Config{}, Deps{Store: h.st, Clock: h.clk, Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("sigtrail_up 1\n"))
	})})
	rec := newRecorder()
	withMetrics.ServeHTTP(rec, mustRequest(t, http.MethodGet, "/metrics"))
	if rec.status != 200 || rec.body.String() != "sigtrail_up 1\n" {
		t.Errorf("metrics %d %q", rec.status, rec.body.String())
	}
}

// TestPanicIsA500 checks a handler's panic is logged and answered with a
// problem that shows nothing of it, and that the request is still audited.
func TestPanicIsA500(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	org, tok := h.org("o")
	h.api.mux.Handle("GET /v3/boom", h.api.handler(&route{resource: "boom", action: "retrieve", handle: func(*call) error {
		panic("secret internal state")
	}}))
	rec := newRecorder()
	req := mustRequest(t, http.MethodGet, "/v3/boom")
	req.Header.Set("Authorization", "Bearer "+tok)
	h.api.ServeHTTP(rec, req)
	if rec.status != 500 || strings.Contains(rec.body.String(), "secret") || !strings.Contains(rec.header.Get("Content-Type"), "problem+json") {
		t.Fatalf("panic answered %d %q", rec.status, rec.body.String())
	}
	es := requestEntries(h.entries(org), rec.header.Get("X-Sigtrail-Trace-Id"))
	if len(es) != 3 || es[2].Status != 500 {
		t.Fatalf("entries %+v", es)
	}
}

// recorder is a minimal ResponseWriter for calling the handler directly.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder            { return &recorder{header: http.Header{}} }
func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(s int)   { r.status = s }
func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	return r.body.Write(p)
}

func mustRequest(t *testing.T, method, path string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, "http://127.0.0.1"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.RemoteAddr = "127.0.0.1:40000"
	return req
}

// TestStoreDown: with the store gone, requests are refused with a 503
// problem, never served unaudited, and /healthz says so.
func TestStoreDown(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	_, tok := h.org("o")
	h.call(http.MethodGet, "/healthz", "", nil).expect(t, http.StatusOK)
	if err := h.st.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ method, path, secret string }{
		{http.MethodGet, "/v3/portals", tok},
		{http.MethodPost, "/v3/portals", tok},
		{http.MethodGet, "/v3/portals", ""},
		{http.MethodGet, "/healthz", ""},
	} {
		res := h.callWith(tc.method, tc.path, tc.secret, nil, nil)
		if res.Status != http.StatusServiceUnavailable {
			t.Errorf("%s %s: %d, want 503: %s", tc.method, tc.path, res.Status, res.Body)
			continue
		}
		res.problem(t, http.StatusServiceUnavailable)
	}
}
