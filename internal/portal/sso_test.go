package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/kongspecs"
	"github.com/sigtrail/sigtrail/internal/store"
)

// opUsers is the identity provider's user store: one user, "grace".
type opUsers struct{}

var grace = &storage.User{ID: "grace", Username: "grace", Password: "grace-idp-password", FirstName: "Grace", LastName: "Hopper",
	Email: "Grace@Example.com", EmailVerified: true}

func (opUsers) GetUserByID(id string) *storage.User {
	if id == grace.ID {
		return grace
	}
	return nil
}
func (opUsers) GetUserByUsername(n string) *storage.User {
	if n == grace.Username {
		return grace
	}
	return nil
}
func (opUsers) ExampleClientID() string { return "service" }

// startOP starts zitadel/oidc's OpenID Provider on 127.0.0.1 with one web
// client redirecting to redirect, and returns its issuer.
func startOP(t *testing.T, redirect string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	st := storage.NewStorageWithClients(opUsers{}, map[string]*storage.Client{"portal": storage.WebClient("portal", "secret", redirect)})
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: exampleop.SetupServer(issuer, st, nil, false)}}
	srv.Start()
	t.Cleanup(srv.Close)
	return issuer
}

func insecureDestinations(c *Config, _ *store.Portal) { c.InsecureDestinations = true }

func (e *testEnv) addIdP(issuer string) store.IdentityProvider {
	e.t.Helper()
	now := e.clk.Now()
	p := store.IdentityProvider{ID: uuid.NewString(), PortalID: e.portal.ID, OrgID: e.org.ID, Type: store.IdPTypeOIDC, Enabled: true,
		IssuerURL: issuer, ClientID: "portal", ClientSecret: "secret", Scopes: []string{"openid", "email", "profile"},
		ClaimName: "name", ClaimEmail: "email", ClaimGroups: "groups", CreatedAt: now, UpdatedAt: now}
	if err := e.st.CreateIdentityProvider(context.Background(), p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// devContract checks answers against Kong's dev-portal v2 document.
type devContract struct {
	t      *testing.T
	router routers.Router
}

func newDevContract(t *testing.T) devContract {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(filepath.Join(kongspecs.Require(t), "dev-portal-v2.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = openapi3.Servers{{URL: "http://portal.test"}}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return devContract{t, r}
}

func (c devContract) check(method, path string, body []byte, r response) {
	c.t.Helper()
	req, _ := http.NewRequest(method, "http://portal.test"+path, bytes.NewReader(body))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		c.t.Fatalf("%s %s is not in the contract: %v", method, path, err)
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	in := &openapi3filter.ResponseValidationInput{RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
		Status: r.StatusCode, Header: r.Header, Options: opts}
	in.SetBodyBytes(r.body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		c.t.Errorf("%s %s -> %d does not match the contract: %v\nbody: %s", method, path, r.StatusCode, err, r.body)
	}
}

// The start of single sign-on: 400 without a provider, then a redirect to
// the provider with PKCE (S256), state and nonce, which the flow cookie
// keeps for the callback alone.
func TestSSOStart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, insecureDestinations)
	contract := newDevContract(t)
	r := e.do(e.client, http.MethodGet, ssoStartPath, nil, nil)
	if r.StatusCode != http.StatusBadRequest {
		t.Fatalf("without a provider: %d %s", r.StatusCode, r.body)
	}
	contract.check(http.MethodGet, ssoStartPath, nil, r)
	if page := e.do(e.client, http.MethodGet, ssoStartPath, nil, map[string]string{"Accept": "text/html"}); page.StatusCode != http.StatusBadRequest ||
		!strings.Contains(string(page.body), "Single sign-on is not enabled on this portal.") {
		t.Fatalf("the page without a provider: %d %s", page.StatusCode, page.body)
	}
	if login := e.do(e.client, http.MethodGet, "/login", nil, nil); strings.Contains(string(login.body), `id="sso"`) {
		t.Fatal("the log-in page offers SSO without a provider")
	}

	issuer := startOP(t, e.base+ssoCallbackPath)
	e.addIdP(issuer)
	if login := e.do(e.client, http.MethodGet, "/login", nil, nil); !strings.Contains(string(login.body), `id="sso"`) || !strings.Contains(string(login.body), `id="password"`) {
		t.Fatalf("the log-in page does not offer both ways in:\n%s", login.body)
	}
	r = e.do(e.client, http.MethodGet, ssoStartPath, nil, nil)
	if r.StatusCode != http.StatusFound {
		t.Fatalf("start: %d %s", r.StatusCode, r.body)
	}
	contract.check(http.MethodGet, ssoStartPath, nil, r)
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), issuer+"/") {
		t.Fatalf("redirected to %q", r.Header.Get("Location"))
	}
	q := loc.Query()
	var cookie *http.Cookie
	for _, c := range r.Cookies() {
		if c.Name == ssoCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.Path != ssoStartPath || cookie.SameSite != http.SameSiteLaxMode || cookie.MaxAge <= 0 || cookie.MaxAge > 600 {
		t.Fatalf("flow cookie %+v", cookie)
	}
	parts := strings.Split(cookie.Value, ".")
	if q.Get("response_type") != "code" || q.Get("client_id") != "portal" || q.Get("redirect_uri") != e.base+ssoCallbackPath ||
		q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || q.Get("scope") != "openid email profile" ||
		len(parts) != 4 || q.Get("state") != parts[0] || q.Get("nonce") != parts[1] || q.Get("code_challenge") == parts[2] {
		t.Fatalf("authorization request %v with flow cookie %q", q, cookie.Value)
	}
	// A second start gets a fresh state, nonce and verifier.
	r2 := e.do(e.client, http.MethodGet, ssoStartPath, nil, nil)
	if r2.Header.Get("Location") == r.Header.Get("Location") {
		t.Fatal("two starts share their state")
	}
}

// A callback with no flow of its own is an INVALID attempt, recorded with
// the fields and trace id of a basic log-in; with basic authentication off,
// a password log-in is refused and recorded as DISABLED.
func TestSSOCallbackWithoutFlowAndBasicAuthOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t, insecureDestinations)
	contract := newDevContract(t)
	e.signUp("jane@example.com")
	e.addIdP(startOP(t, e.base+ssoCallbackPath))

	r := e.do(e.client, http.MethodGet, ssoCallbackPath+"?state=x&code=y", nil, nil)
	if r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("callback without a flow: %d %s", r.StatusCode, r.body)
	}
	invalid := e.wantEntry(r, ssoCallbackPath, audit.OutcomeInvalid, "")
	invalid.ClassID = audit.AuthTypeSSO

	if err := e.st.PutAuthSettings(context.Background(), store.AuthSettings{PortalID: e.portal.ID, KonnectMappingEnabled: true, UpdatedAt: e.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	body := map[string]string{"username": "jane@example.com", "password": testPassword}
	r = e.login(e.client, "jane@example.com", testPassword)
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(string(r.body), "single sign-on") {
		t.Fatalf("password log-in with basic auth off: %d %s", r.StatusCode, r.body)
	}
	raw, _ := json.Marshal(body)
	contract.check(http.MethodPost, "/api/v2/developer/authenticate", raw, r)
	e.assertEntries(invalid, e.wantEntry(r, "/api/v2/developer/authenticate", audit.OutcomeDisabled, ""))
	if login := e.do(e.client, http.MethodGet, "/login", nil, nil); strings.Contains(string(login.body), `id="password"`) {
		t.Fatal("the log-in page offers a password with basic auth off")
	}
}

// Discovery goes through the dial guard of destinations: without the
// development flag a provider on a loopback address is never contacted,
// even one stored before the flag was turned off.
func TestSSOIssuerBehindTheDialGuard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var hits atomic.Int64
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(idp.Close)
	e.addIdP(idp.URL)
	r := e.do(e.client, http.MethodGet, ssoStartPath, nil, nil)
	if r.StatusCode != http.StatusServiceUnavailable || hits.Load() != 0 {
		t.Fatalf("start with a loopback issuer: %d %s; provider contacted %d times", r.StatusCode, r.body, hits.Load())
	}
	if !strings.Contains(e.logs.String(), "is loopback") && !strings.Contains(e.logs.String(), "not allowed") {
		t.Errorf("the log does not say why: %s", e.logs.String())
	}
}

// loginAtOP plays the browser at the provider: follows the authorization
// request to its log-in form, logs in as grace and returns the portal
// callback URL the provider sends the browser back to.
func loginAtOP(t *testing.T, authURL string) string {
	t.Helper()
	return loginAtOPAs(t, authURL, grace)
}

// loginAtOPAs is loginAtOP as the provider's user u.
func loginAtOPAs(t *testing.T, authURL string, u *storage.User) string {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	next := authURL
	for range 5 {
		res, err := c.Get(next)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, err := res.Location()
		if err != nil {
			t.Fatalf("GET %s: %d without a redirect", next, res.StatusCode)
		}
		if id := loc.Query().Get("authRequestID"); id != "" {
			res, err := c.PostForm(loc.Scheme+"://"+loc.Host+"/login/username", url.Values{"id": {id}, "username": {u.Username}, "password": {u.Password}})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if next = res.Header.Get("Location"); next == "" {
				t.Fatalf("log-in at the provider: %d", res.StatusCode)
			}
			if strings.HasPrefix(next, "/") {
				next = loc.Scheme + "://" + loc.Host + next
			}
			continue
		}
		if strings.Contains(loc.Path, ssoCallbackPath) {
			return loc.String()
		}
		next = loc.String()
	}
	t.Fatal("the provider never sent the browser back")
	return ""
}

// A flow started on one replica ends on another (its state is in the
// browser's cookie alone), signs the developer up and opens a session; the
// entry has the fields and trace id of a basic log-in. The same callback
// again is an INVALID attempt: a flow is used once.
func TestSSOAcrossReplicas(t *testing.T) {
	t.Parallel()
	// Both replicas answer at one origin, as behind a load balancer.
	var origin string
	e := newEnv(t, insecureDestinations, func(c *Config, _ *store.Portal) {
		c.BaseURL = func(store.Portal, string) string { return origin }
	})
	origin = e.base
	other := e.replica()
	e.addIdP(startOP(t, e.base+ssoCallbackPath))

	start := e.do(e.client, http.MethodGet, ssoStartPath, nil, nil)
	if start.StatusCode != http.StatusFound {
		t.Fatalf("start: %d %s", start.StatusCode, start.body)
	}
	var flow string
	for _, c := range start.Cookies() {
		if c.Name == ssoCookie {
			flow = c.Value
		}
	}
	callback, err := url.Parse(loginAtOP(t, start.Header.Get("Location")))
	if err != nil {
		t.Fatal(err)
	}
	cookie := map[string]string{"Cookie": ssoCookie + "=" + flow}
	r := other.do(other.client, http.MethodGet, callback.RequestURI(), nil, cookie)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/profile" {
		t.Fatalf("callback on the other replica: %d %s", r.StatusCode, r.body)
	}
	d := e.developer("grace@example.com")
	if d.Email != "Grace@Example.com" || d.FullName != "Grace Hopper" || d.Status != store.DeveloperApproved || !d.EmailVerified {
		t.Fatalf("signed-up developer %+v", d)
	}
	success := other.wantEntry(r, ssoCallbackPath, audit.OutcomeSuccess, d.ID)
	success.ClassID = audit.AuthTypeSSO
	if me := other.do(other.client, http.MethodGet, "/api/v2/developer/me", nil, nil); me.StatusCode != http.StatusOK {
		t.Fatalf("no session after SSO: %d %s", me.StatusCode, me.body)
	}

	again := e.do(e.client, http.MethodGet, callback.RequestURI(), nil, cookie)
	if again.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the same callback again: %d %s", again.StatusCode, again.body)
	}
	invalid := e.wantEntry(again, ssoCallbackPath, audit.OutcomeInvalid, "")
	invalid.ClassID = audit.AuthTypeSSO
	e.assertEntries(success, invalid)
}
