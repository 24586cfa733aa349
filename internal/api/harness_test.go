package api

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/httpx"
	"github.com/sigtrail/sigtrail/internal/kongspecs"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlite"
	"github.com/sigtrail/sigtrail/internal/tenancy"
	"github.com/sigtrail/sigtrail/internal/testenv"
)

// specHost is the origin responses are matched under when validating; the
// specs' servers are rewritten to it, whatever port the test server has.
const specHost = "http://sigtrail.test"

// spec validates responses against one OpenAPI document.
type spec struct {
	name   string
	router routers.Router
	// strict: every status must be documented (sigtrail's own document);
	// Kong's documents list only some, so only those are checked.
	strict bool
}

func loadSpec(name string, data []byte, base string, strict bool) (*spec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, err
	}
	if strict {
		if err := doc.Validate(loader.Context); err != nil {
			return nil, err
		}
	}
	doc.Servers = openapi3.Servers{{URL: specHost + base}}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &spec{name: name, router: r, strict: strict}, nil
}

// kongSpecDir finds Kong's specs beside the repository (see kongspecs);
// TestKongSpecsArePresent makes CI fail rather than check less when they
// are missing.
func kongSpecDir() string { return kongspecs.Dir() }

func TestKongSpecsArePresent(t *testing.T) {
	t.Parallel()
	kongspecs.Require(t)
}

type specSet struct {
	own  *spec
	kong []*spec
	err  error
}

// specs are parsed once per test binary: Kong's portal spec is large.
var loadSpecs = sync.OnceValue(func() *specSet {
	s := &specSet{}
	s.own, s.err = loadSpec("sigtrail", openAPIDoc, "", true)
	if s.err != nil {
		return s
	}
	dir := kongSpecDir()
	if dir == "" {
		return s
	}
	for _, k := range []struct{ file, base string }{
		{"audit-logs-v2.yaml", "/v2"}, {"audit-logs-v3.yaml", "/v3"}, {"portal-management-v3.yaml", "/v3"},
	} {
		data, err := os.ReadFile(filepath.Join(dir, k.file))
		if err != nil {
			s.err = err
			return s
		}
		sp, err := loadSpec(k.file, data, k.base, false)
		if err != nil {
			s.err = err
			return s
		}
		s.kong = append(s.kong, sp)
	}
	return s
})

// validate checks one answer against sigtrail's document (the route must
// be in it) and against each Kong document that has the operation.
func (s *specSet) validate(method, path, query string, res *response) []error {
	var errs []error
	u := specHost + path
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		return []error{err}
	}
	check := func(sp *spec) {
		route, params, err := sp.router.FindRoute(req)
		if err != nil {
			if sp.strict && res.Status != http.StatusNotFound && res.Status != http.StatusMethodNotAllowed {
				errs = append(errs, fmt.Errorf("%s %s: not in %s: %v", method, path, sp.name, err))
			}
			return
		}
		// Kong's enum lacks "unconfigured", which its docs use;
		// reference/SOURCES.md says sigtrail follows the docs.
		if !sp.strict && bytes.Contains(res.Body, []byte(`"webhook_status":"unconfigured"`)) {
			return
		}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
			Status:                 res.Status,
			Header:                 res.Header,
			Options:                &openapi3filter.Options{IncludeResponseStatus: sp.strict},
		}
		in.SetBodyBytes(res.Body)
		if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
			errs = append(errs, fmt.Errorf("%s %s -> %d does not match %s: %v\nbody: %s", method, path, res.Status, sp.name, err, res.Body))
		}
	}
	check(s.own)
	for _, k := range s.kong {
		check(k)
	}
	return errs
}

// notifier counts, per stream, the webhook changes delivery was told of
// and the rechecks it was asked for.
type notifier struct {
	mu                sync.Mutex
	changes, rechecks map[store.StreamID]int
}

func (n *notifier) WebhookChanged(s store.StreamID) { n.add(&n.changes, s) }
func (n *notifier) RecheckWebhook(s store.StreamID) { n.add(&n.rechecks, s) }

func (n *notifier) add(m *map[store.StreamID]int, s store.StreamID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if *m == nil {
		*m = map[store.StreamID]int{}
	}
	(*m)[s]++
}

func (n *notifier) changed(s store.StreamID) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.changes[s]
}

func (n *notifier) rechecked(s store.StreamID) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.rechecks[s]
}

// jwks is a fixed key set for the public route.
type jwks []byte

func (j jwks) JWKS() []byte { return j }

// harness is a real API on 127.0.0.1 over a real SQLite store.
type harness struct {
	t       testing.TB
	st      *sqlite.Store
	srv     *httptest.Server
	api     *server
	clk     *clock.Fake
	hooks   *notifier
	ten     *tenancy.Service
	specs   *specSet
	metrics http.Handler
	logs    *testenv.LogBuffer // everything the API logged
}

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newHarness(t testing.TB, cfg Config, opts ...func(*Deps)) *harness {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	specs := loadSpecs()
	if specs.err != nil {
		t.Fatalf("load specs: %v", specs.err)
	}
	h := &harness{t: t, st: st, clk: clock.NewFake(epoch), hooks: &notifier{}, specs: specs, logs: &testenv.LogBuffer{}}
	h.ten = tenancy.New(st, h.clk)
	deps := Deps{
		Store: st, Recorder: store.LogRecorder{Log: st}, JWKS: jwks(`{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`),
		Webhooks: h.hooks, Clock: h.clk, Signer: edSigner(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))), Logger: slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), h.logs), nil)),
	}
	for _, o := range opts {
		o(&deps)
	}
	h.api = New(cfg, deps).(*server)
	h.srv = httptest.NewServer(h.api)
	t.Cleanup(h.srv.Close)
	return h
}

// org creates an org and returns its ID and an org-admin secret.
func (h *harness) org(name string) (string, string) {
	h.t.Helper()
	o, err := h.ten.CreateOrg(context.Background(), name)
	if err != nil {
		h.t.Fatal(err)
	}
	return o.ID, h.token(o.ID, store.RoleOrgAdmin, false, 0)
}

func (h *harness) token(orgID string, role store.Role, system bool, ttl time.Duration) string {
	h.t.Helper()
	_, secret, err := h.ten.CreateToken(context.Background(), tenancy.TokenSpec{OrgID: orgID, Name: "t-" + string(role), Role: role, System: system, TTL: ttl})
	if err != nil {
		h.t.Fatal(err)
	}
	return secret
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// decode reads the JSON body into v.
func (r *response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// problem checks the answer is problem+json with the given status.
func (r *response) problem(t testing.TB, status int) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p map[string]any
	r.decode(t, &p)
	trace := r.Header.Get("X-Sigtrail-Trace-Id")
	if trace == "" || p["instance"] != "kong:trace:"+trace {
		t.Fatalf("instance %v does not carry the trace id %q", p["instance"], trace)
	}
	return p
}

// call sends a request with an optional JSON body (a string is sent as is)
// and validates the answer against the specs.
func (h *harness) call(method, path, secret string, body any) *response {
	h.t.Helper()
	return h.callWith(method, path, secret, body, nil)
}

func (h *harness) callWith(method, path, secret string, body any, hdr map[string]string) *response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	req.Header.Set("User-Agent", "sigtrail-test/1")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	out := &response{Status: res.StatusCode, Header: res.Header, Body: data}
	// A dependency that is down is a 503; anything else 5xx is a bug.
	if out.Status >= 500 && out.Status != http.StatusServiceUnavailable {
		h.t.Errorf("%s %s -> %d: %s", method, path, out.Status, data)
	}
	p, q, _ := strings.Cut(path, "?")
	for _, err := range h.specs.validate(method, p, q, out) {
		h.t.Error(err)
	}
	return out
}

// expect checks the status.
func (r *response) expect(t testing.TB, status int) *response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	return r
}

// entries reads a stream's audit entries.
func (h *harness) entries(stream string) []store.StoredEntry {
	h.t.Helper()
	es, err := h.st.Read(context.Background(), store.StreamID(stream), 0, 100000)
	if err != nil {
		h.t.Fatal(err)
	}
	return es
}

func streamOfOrg(t *testing.T, h *harness, secret string) store.StreamID {
	t.Helper()
	return store.StreamID(orgOf(t, h, secret))
}

func httpxTrusted(s string) (httpx.TrustedProxies, error) { return httpx.ParseTrustedProxies(s) }

// edSigner signs with an Ed25519 key, as the keyring does.
type edSigner ed25519.PrivateKey

func (k edSigner) Sign(msg []byte) []byte { return ed25519.Sign(ed25519.PrivateKey(k), msg) }

// ActiveKey names the key, as the keyring does for checkpoint notes.
func (k edSigner) ActiveKey() (ed25519.PublicKey, audit.Signer) {
	return ed25519.PrivateKey(k).Public().(ed25519.PublicKey), k
}
