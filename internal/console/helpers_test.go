package console

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/api"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/passwd"
	"github.com/sigtrail/sigtrail/internal/signing"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/postgres"
	"github.com/sigtrail/sigtrail/internal/store/postgres/pgtest"
	"github.com/sigtrail/sigtrail/internal/store/sqlite"
	"github.com/sigtrail/sigtrail/internal/tenancy"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const testPassword = "correct horse battery staple"

// cheapArgon keeps tests fast; the parameters' cost is not under test.
var cheapArgon = passwd.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// env is a console in front of a real API on a real SQLite store, served
// on 127.0.0.1.
type env struct {
	t       testing.TB
	st      store.Store
	clk     *clock.Fake
	org     store.Org
	sysOrg  string
	h       *Handler
	srv     *httptest.Server
	keyring *signing.Keyring
}

func newEnv(t testing.TB, cfg Config) *env {
	t.Helper()
	ctx := context.Background()
	var st store.Store
	var err error
	if os.Getenv("SIGTRAIL_BENCH_POSTGRES") != "" {
		// For the benchmarks on PostgreSQL (docs/performance.md).
		st, err = postgres.Open(ctx, pgtest.URL(t), postgres.Options{})
	} else {
		st, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"), sqlite.Options{})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, st: st, clk: clock.NewFake(epoch)}
	ten := tenancy.New(st, e.clk)
	if e.org, err = ten.CreateOrg(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	kr, err := signing.Open(ctx, st, e.clk, 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	e.keyring = kr
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	apiH := api.New(api.Config{InsecureDestinations: true}, api.Deps{Store: st, JWKS: kr, Signer: kr, Clock: e.clk, Logger: log})
	if cfg.Argon2 == (passwd.Params{}) {
		cfg.Argon2 = cheapArgon
	}
	e.h = New(cfg, Deps{Store: st, API: apiH, Keys: kr, Clock: e.clk, Logger: log})
	e.srv = httptest.NewServer(e.h.Mount(apiH))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) user(email string, role store.Role) store.User {
	e.t.Helper()
	return e.userOf(e.org.ID, email, role)
}

// userOf creates a user of the org; an address that has an identity
// joins it (its password stays).
func (e *env) userOf(orgID, email string, role store.Role) store.User {
	e.t.Helper()
	u, _, err := CreateUser(context.Background(), e.st, UserSpec{OrgID: orgID, Email: email, Role: role, Password: testPassword}, cheapArgon, e.clk.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// browser is a client with a cookie jar that does not follow redirects.
type browser struct {
	e *env
	c *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status   int
	location string
	body     string
	header   http.Header
}

func (b *browser) get(path string) page {
	b.e.t.Helper()
	res, err := b.c.Get(b.e.srv.URL + path)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return readPage(b.e.t, res)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// post fetches the form's page for its CSRF token, then posts the form.
func (b *browser) post(formPage, path string, form url.Values) page {
	b.e.t.Helper()
	if form.Get("csrf") == "" {
		p := b.get(formPage)
		m := csrfField.FindStringSubmatch(p.body)
		if m == nil {
			b.e.t.Fatalf("no CSRF token on %s (%d)", formPage, p.status)
		}
		form.Set("csrf", m[1])
	}
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return readPage(b.e.t, res)
}

// TestMain stops the PostgreSQL server a PostgreSQL benchmark started.
func TestMain(m *testing.M) { pgtest.Main(m) }

func readPage(t testing.TB, res *http.Response) page {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{status: res.StatusCode, location: res.Header.Get("Location"), body: string(b), header: res.Header}
}

func (b *browser) login(email, password string) page {
	b.e.t.Helper()
	return b.post("/login", "/login", url.Values{"email": {email}, "password": {password}})
}

// entries reads a stream of the log.
func (e *env) entries(stream string) []store.StoredEntry {
	e.t.Helper()
	es, err := e.st.Read(context.Background(), store.StreamID(stream), 0, 100000)
	if err != nil {
		e.t.Fatal(err)
	}
	return es
}

func (e *env) systemOrg() string {
	e.t.Helper()
	o, err := tenancy.New(e.st, e.clk).SystemOrg(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return o.ID
}

// recorder is a minimal ResponseWriter for calling a handler directly.
type recorder struct {
	header http.Header
	status int
	body   strings.Builder
}

func newRecorder() *recorder { return &recorder{header: http.Header{}, status: http.StatusOK} }

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(status int)      { r.status = status }
func (r *recorder) Write(p []byte) (int, error) { return r.body.Write(p) }
