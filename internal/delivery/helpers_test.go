package delivery

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/signing"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlite"
)

// edSigner signs with a fixed Ed25519 key, as the keyring does with its
// active key.
type edSigner struct{ key ed25519.PrivateKey }

func (s edSigner) Sign(msg []byte) []byte { return ed25519.Sign(s.key, msg) }

func testSigner() edSigner {
	return edSigner{ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))}
}

// testVerifier is the JWKS a receiver would fetch for testSigner.
func testVerifier(t testing.TB) signing.Verifier {
	t.Helper()
	pub := testSigner().key.Public().(ed25519.PublicKey)
	jwks := fmt.Sprintf(`{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"k","x":%q}]}`,
		base64.RawURLEncoding.EncodeToString(pub))
	v, err := signing.ParseJWKS([]byte(jwks))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// writeTestJWKS writes testSigner's key set to a file and returns its path.
func writeTestJWKS(t testing.TB) string {
	t.Helper()
	pub := testSigner().key.Public().(ed25519.PublicKey)
	jwks := fmt.Sprintf(`{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"k","x":%q}]}`,
		base64.RawURLEncoding.EncodeToString(pub))
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, []byte(jwks), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func openStore(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newStore(t testing.TB) *sqlite.Store {
	t.Helper()
	return openStore(t, filepath.Join(t.TempDir(), "db"))
}

// hook is one configured org webhook.
type hook struct {
	stream store.StreamID
	org    string
	dest   store.Destination
}

const testAuthorization = "Splunk 0a1b2c3d-secret"

// addWebhook creates an org, a destination at endpoint and the org's
// enabled webhook.
func addWebhook(t testing.TB, st store.Store, endpoint string, f audit.Format) hook {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	org := store.Org{ID: uuid.Must(uuid.NewV7()).String(), CreatedAt: now}
	org.Name = "org-" + org.ID
	if err := st.CreateOrg(ctx, org); err != nil {
		t.Fatal(err)
	}
	dest := store.Destination{
		ID: uuid.Must(uuid.NewV7()).String(), OrgID: org.ID, Name: "siem", Endpoint: endpoint,
		Authorization: testAuthorization, LogFormat: f, CreatedAt: now, UpdatedAt: now,
	}
	if err := st.CreateDestination(ctx, dest); err != nil {
		t.Fatal(err)
	}
	h := hook{stream: store.StreamID(org.ID), org: org.ID, dest: dest}
	setEnabled(t, st, h, true)
	return h
}

func setEnabled(t testing.TB, st store.Store, h hook, enabled bool) {
	t.Helper()
	err := st.PutWebhook(context.Background(), store.Webhook{
		Stream: h.stream, OrgID: h.org, DestinationID: h.dest.ID, Enabled: enabled, UpdatedAt: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
}

func entries(h hook, from, n int) []store.NewEntry {
	out := make([]store.NewEntry, n)
	for i := range out {
		out[i] = store.NewEntry{Stream: h.stream, Entry: audit.Entry{
			Kind: audit.KindAuthentication, Time: time.Now(), Product: audit.ProductKonnect,
			ClassID: audit.AuthTypeBasic, Name: string(audit.OutcomeSuccess),
			Src: "203.0.113.7", OrgID: h.org, PrincipalID: "p",
			TraceID: fmt.Sprint("t", from+i), UserAgent: "test",
		}}
	}
	return out
}

type managerOpts struct {
	cfg   Config
	clock clock.Clock
	reg   *prometheus.Registry
	log   *slog.Logger
}

// startManager runs a manager until the test ends.
func startManager(t testing.TB, st store.Store, o managerOpts) *Manager {
	t.Helper()
	o.cfg.InsecureDestinations = true
	if o.cfg.CoalesceWait == 0 {
		// Most tests send one entry and wait for its request on a fake
		// clock that nobody advances; coalesce_test.go turns it on.
		o.cfg.CoalesceWait = -1
	}
	if o.reg == nil {
		o.reg = prometheus.NewRegistry()
	}
	m, err := New(o.cfg, Deps{Store: st, Signer: testSigner(), Clock: o.clock, Registerer: o.reg, Logger: o.log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	waitRunning(t, m)
	return m
}

// waitRunning waits until Run has loaded the enabled webhooks.
func waitRunning(t testing.TB, m *Manager) {
	t.Helper()
	for !m.running.Load() {
		time.Sleep(time.Millisecond)
	}
	// Run marks itself running before it loads; a changed-signal round trip
	// through its loop proves the load is done.
	m.WebhookChanged("")
	for {
		m.changedMu.Lock()
		n := len(m.changed)
		m.changedMu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// request is one webhook request as a destination saw it.
type request struct {
	header http.Header
	lines  []string
}

// recorder is a destination: it keeps every request and answers with the
// status its answer function gives (200 when nil).
type recorder struct {
	mu       sync.Mutex
	requests []request
	arrived  chan request
	answer   func(n int, w http.ResponseWriter, r *http.Request) // n counts requests from 0
}

func newRecorder() *recorder { return &recorder{arrived: make(chan request, 10000)} }

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			http.Error(w, "bad gzip", 400)
			return
		}
		if body, err = io.ReadAll(zr); err != nil {
			http.Error(w, "bad gzip", 400)
			return
		}
	}
	req := request{header: r.Header.Clone(), lines: strings.Split(string(body), "\n")}
	rc.mu.Lock()
	n := len(rc.requests)
	rc.requests = append(rc.requests, req)
	answer := rc.answer
	rc.mu.Unlock()
	rc.arrived <- req
	if answer != nil {
		answer(n, w, r)
	}
}

func (rc *recorder) setAnswer(f func(n int, w http.ResponseWriter, r *http.Request)) {
	rc.mu.Lock()
	rc.answer = f
	rc.mu.Unlock()
}

func (rc *recorder) next(t testing.TB) request {
	t.Helper()
	select {
	case r := <-rc.arrived:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("no webhook request arrived")
		return request{}
	}
}

// traceIDs reads the trace ids of CEF lines, checking every signature.
func traceIDs(t testing.TB, v signing.Verifier, lines []string) []string {
	t.Helper()
	var out []string
	for _, l := range lines {
		if err := v.VerifyLine([]byte(l)); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		i := strings.Index(l, " trace_id=")
		if i < 0 {
			t.Fatalf("no trace_id in %q", l)
		}
		out = append(out, strings.Fields(l[i+len(" trace_id="):])[0])
	}
	return out
}

func seqTraces(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprint("t", i))
	}
	return out
}

func state(t testing.TB, st store.Store, h hook) store.WebhookState {
	t.Helper()
	s, err := st.GetWebhookState(context.Background(), h.stream)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func record(t testing.TB, m *Manager, es []store.NewEntry) {
	t.Helper()
	if _, err := m.Record(context.Background(), es); err != nil {
		t.Fatal(err)
	}
}

// autoAdvance fires every timer the code under test starts, at once, until
// the test ends: for tests about outcomes rather than the schedule.
func autoAdvance(t testing.TB, clk *clock.Fake) {
	t.Helper()
	t.Cleanup(clk.AutoAdvance())
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
