package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/sigtrail/sigtrail/internal/smtptest"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/portal/smtpmail"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlite"
	"github.com/sigtrail/sigtrail/internal/testenv"
)

const (
	testDomain    = "acme.localhost"
	testUserAgent = "sigtrail-portal-test/1.0"
	testPassword  = "correct horse battery staple"
)

// testEnv is one portal listener on 127.0.0.1 with a real SQLite store, a
// real SMTP receiver, a fake clock and a cookie-keeping client.
type testEnv struct {
	t      testing.TB
	st     *sqlite.Store
	clk    *clock.Fake
	org    store.Org
	portal store.Portal
	addr   string // 127.0.0.1:port of the portal listener
	base   string // http://acme.localhost:port
	client *http.Client
	mails  <-chan receivedMail
	logs   *testenv.LogBuffer
	// path, cfg and mailer let replica start another handler on the same
	// database.
	path      string
	cfg       Config
	mailer    Mailer // the SMTP relay behind the outbox
	outbox    *Outbox
	outboxClk clock.Clock
	reg       *prometheus.Registry
}

type envOption func(*Config, *store.Portal)

func newEnv(t testing.TB, opts ...envOption) *testEnv {
	t.Helper()
	return newEnvRelay(t, "", opts...)
}

// newEnvRelay is newEnv with the portal's mail going to the SMTP relay at
// relay instead of the test's receiver (when relay is not empty).
func newEnvRelay(t testing.TB, relay string, opts ...envOption) *testEnv {
	t.Helper()
	return newEnvOutbox(t, relay, clock.Real{}, opts...)
}

// newEnvOutbox is newEnvRelay with the outbox's sender on its own clock:
// the real one by default, so its poll timers do not mingle with the
// timers tests wait for on the fake clock; a fake one for tests of its
// retries.
func newEnvOutbox(t testing.TB, relay string, outboxClk clock.Clock, opts ...envOption) *testEnv {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	st := openStore(t, path)
	clk := clock.NewFake(time.Now().UTC().Truncate(time.Millisecond))
	e := &testEnv{t: t, st: st, clk: clk, logs: &testenv.LogBuffer{}, path: path, outboxClk: outboxClk}
	e.org = store.Org{ID: uuid.Must(uuid.NewV7()).String(), Name: "acme-org", CreatedAt: clk.Now()}
	if err := st.CreateOrg(ctx, e.org); err != nil {
		t.Fatal(err)
	}
	e.portal = store.Portal{ID: uuid.Must(uuid.NewV7()).String(), OrgID: e.org.ID, Name: "acme", DisplayName: "Acme Developers",
		AuthenticationEnabled: true, AutoApproveDevelopers: true, DefaultAPIVisibility: "public", DefaultPageVisibility: "public",
		DefaultDomain: testDomain, CreatedAt: clk.Now(), UpdatedAt: clk.Now()}

	cfg := Config{Argon2: DefaultArgon2()}
	for _, o := range opts {
		o(&cfg, &e.portal)
	}
	if err := st.CreatePortal(ctx, e.portal); err != nil {
		t.Fatal(err)
	}

	if relay == "" {
		rx := smtptest.Start(t)
		relay, e.mails = rx.Addr, rx.Messages
	}
	mailer, err := smtpmail.New("smtp://"+relay, "Acme Portal <portal@acme.test>", clk)
	if err != nil {
		t.Fatal(err)
	}
	e.cfg, e.mailer = cfg, mailer
	e.serve()
	return e
}

func openStore(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// serve starts the portal handler over e.st on a new listener and points
// e's address, base URL and client at it.
func (e *testEnv) serve() {
	srv := httptest.NewUnstartedServer(nil)
	e.addr = srv.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(e.addr)
	cfg := e.cfg
	cfg.ListenPort, _ = strconv.Atoi(port)
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// Mail goes through an outbox on this handle, as in the server; its
	// sender stops before the store closes (cleanups run last first).
	// The goroutine keeps its own outbox: a test may serve again (a new
	// mailer), replacing e.outbox while this one still runs.
	outbox := NewOutbox(OutboxConfig{}, e.st, e.mailer, e.outboxClk, logger)
	e.outbox = outbox
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = outbox.Run(ctx) }()
	e.t.Cleanup(func() { cancel(); <-done })
	if e.reg == nil {
		e.reg = prometheus.NewRegistry()
	}
	srv.Config.Handler = New(cfg, Deps{Store: e.st, Recorder: store.LogRecorder{Log: e.st}, Mailer: outbox, Clock: e.clk, Logger: logger, Registerer: e.reg})
	srv.Start()
	e.t.Cleanup(srv.Close)
	e.base = "http://" + testDomain + ":" + port
	e.client = e.newClient()
}

// replica returns another portal server on the same database through its
// own store handle, as a second replica: same org, portal, clock and mail
// receiver, its own listener and client (with an empty cookie jar).
func (e *testEnv) replica() *testEnv {
	e.t.Helper()
	r := *e
	r.st = openStore(e.t, e.path)
	r.serve()
	return &r
}

// newClient returns a client that reaches every *.localhost name at the
// test listener (as browsers resolve *.localhost to loopback) and keeps
// cookies, but does not follow redirects.
func (e *testEnv) newClient() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, e.addr)
	}}
	e.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// response is an answer with its body read.
type response struct {
	*http.Response
	body []byte
}

func (r response) problem(t testing.TB) map[string]any {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json; body %s", ct, r.body)
	}
	var p map[string]any
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// do sends a request with the test's user agent. body may be nil, a string
// (sent as is) or a value sent as JSON.
func (e *testEnv) do(c *http.Client, method, path string, body any, hdr map[string]string) response {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd, ct = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("User-Agent", testUserAgent)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{resp, raw}
}

func (e *testEnv) post(path string, body any) response {
	e.t.Helper()
	return e.do(e.client, http.MethodPost, path, body, nil)
}

// receivedMail is one message the SMTP receiver accepted.
type receivedMail = smtptest.Message

var tokenInLink = regexp.MustCompile(`https?://[^\s]+[?&]token=([0-9a-f-]{36})`)

// link returns the first link of the email and its token.
func mailLink(t testing.TB, m receivedMail) (string, string) {
	t.Helper()
	s := tokenInLink.FindStringSubmatch(m.Body)
	if s == nil {
		t.Fatalf("no link with a token in the email:\n%s", m.Body)
	}
	return s[0], s[1]
}

func (e *testEnv) nextMail() receivedMail {
	e.t.Helper()
	select {
	case m := <-e.mails:
		return m
	case <-time.After(10 * time.Second):
		e.t.Fatal("no email arrived")
		return receivedMail{}
	}
}

// drainMails discards every email from now on (fuzzing sends many).
func (e *testEnv) drainMails() {
	stop := make(chan struct{})
	e.t.Cleanup(func() { close(stop) })
	go func() {
		for {
			select {
			case <-e.mails:
			case <-stop:
				return
			}
		}
	}()
}

func (e *testEnv) noMail() {
	e.t.Helper()
	select {
	case m := <-e.mails:
		e.t.Fatalf("unexpected email to %s: %s", m.To, m.Header.Get("Subject"))
	default:
	}
}

// signUp registers a developer through the API, follows the emailed token
// and sets the password; it returns the developer.
func (e *testEnv) signUp(email string) store.Developer {
	e.t.Helper()
	if r := e.post("/api/v2/developer", map[string]string{"email": email, "full_name": "Jane Doe"}); r.StatusCode != http.StatusCreated {
		e.t.Fatalf("register: %d %s", r.StatusCode, r.body)
	}
	link, _ := mailLink(e.t, e.nextMail())
	return e.signUpExisting(email, link)
}

// signUpExisting finishes a registration from its emailed link: verify the
// email, set the password. It does so in a browser of its own, which the
// password makes a known device (deviceCookie), so e.client stays a
// stranger to the account.
func (e *testEnv) signUpExisting(email, link string) store.Developer {
	e.t.Helper()
	token := tokenInLink.FindStringSubmatch(link)[1]
	c := e.newClient()
	r := e.do(c, http.MethodPost, "/api/v2/developer/verify-email", map[string]string{"token": token}, nil)
	var v struct{ Token string }
	if err := json.Unmarshal(r.body, &v); err != nil || r.StatusCode != http.StatusAccepted {
		e.t.Fatalf("verify-email: %d %s", r.StatusCode, r.body)
	}
	if r := e.do(c, http.MethodPost, "/api/v2/developer/reset-password", map[string]string{"token": v.Token, "password": testPassword}, nil); r.StatusCode != http.StatusNoContent {
		e.t.Fatalf("reset-password: %d %s", r.StatusCode, r.body)
	}
	return e.developer(email)
}

func (e *testEnv) developer(email string) store.Developer {
	e.t.Helper()
	d, err := e.st.GetDeveloperByEmail(context.Background(), e.portal.ID, email)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

func (e *testEnv) login(c *http.Client, email, password string) response {
	e.t.Helper()
	return e.do(c, http.MethodPost, "/api/v2/developer/authenticate", map[string]string{"username": email, "password": password}, nil)
}

// entries reads the portal's audit stream.
func (e *testEnv) entries() []audit.Entry {
	e.t.Helper()
	got, err := e.st.Read(context.Background(), store.StreamID(e.portal.ID), 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	out := make([]audit.Entry, len(got))
	for i, s := range got {
		out[i] = s.Entry
	}
	return out
}

// wantEntry is the entry an attempt at path with outcome must produce.
func (e *testEnv) wantEntry(r response, path string, o audit.Outcome, principal string) audit.Entry {
	e.t.Helper()
	trace := r.Header.Get("X-Sigtrail-Trace-Id")
	if trace == "" {
		e.t.Fatal("no trace id header")
	}
	return audit.Entry{Kind: audit.KindAuthentication, Time: e.clk.Now().UTC(), Product: audit.ProductDevPortal,
		ClassID: audit.AuthTypeBasic, Name: string(o), Src: "127.0.0.1", OrgID: e.org.ID, PortalID: e.portal.ID,
		PrincipalID: principal, TraceID: trace, UserAgent: testUserAgent, Request: path}
}

func (e *testEnv) assertEntries(want ...audit.Entry) {
	e.t.Helper()
	got := e.entries()
	if len(got) != len(want) {
		e.t.Fatalf("audit stream holds %d entries, want %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.Time.Equal(w.Time) {
			e.t.Errorf("entry %d time %v, want %v", i, g.Time, w.Time)
		}
		g.Time, w.Time = time.Time{}, time.Time{}
		if g != w {
			e.t.Errorf("entry %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}
