package portal

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

// cookie is the value of c's cookie name for the portal, "" when none.
func (e *testEnv) cookie(c *http.Client, name string) string {
	e.t.Helper()
	u, err := url.Parse(e.base + "/")
	if err != nil {
		e.t.Fatal(err)
	}
	for _, k := range c.Jar.Cookies(u) {
		if k.Name == name {
			return k.Value
		}
	}
	return ""
}

// TestLogInAndLogOutRotateFormTokenAndEndPresentedSession: the form token
// a browser had before a log-in (page or API) or a log-out is refused
// after it, and a log-in ends the session the browser presented, whoever's
// it was.
func TestLogInAndLogOutRotateFormTokenAndEndPresentedSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.signUp("jane@example.com")
	e.signUp("john@example.com")
	c := e.newClient()
	ctx := context.Background()

	_, tok := e.page(c, "/login")
	if r := e.form(c, "/login", url.Values{"csrf": {tok}, "email": {"jane@example.com"}, "password": {testPassword}}, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("log in: %d %s", r.StatusCode, r.body)
	}
	janeAccess := e.cookie(c, accessCookie)
	if now := e.cookie(c, csrfCookie); now == "" || now == tok {
		t.Fatalf("form token not rotated at the page log-in: before %q, after %q", tok, now)
	}
	if r := e.form(c, "/logout", url.Values{"csrf": {tok}}, nil); r.StatusCode != http.StatusForbidden {
		t.Fatalf("a form with the pre-log-in token answered %d, want 403", r.StatusCode)
	}

	// John logs in through the API on the same browser: Jane's session
	// ends with it.
	before := e.cookie(c, csrfCookie)
	if r := e.login(c, "john@example.com", testPassword); r.StatusCode != http.StatusNoContent {
		t.Fatalf("API log-in: %d %s", r.StatusCode, r.body)
	}
	if now := e.cookie(c, csrfCookie); now == "" || now == before {
		t.Fatalf("form token not rotated at the API log-in: before %q, after %q", before, now)
	}
	if _, err := e.st.GetDeveloperToken(ctx, tokenHash(janeAccess)); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("the session the browser presented outlived the new log-in: %v", err)
	}
	johnAccess := e.cookie(c, accessCookie)
	if tk, err := e.st.GetDeveloperToken(ctx, tokenHash(johnAccess)); err != nil || tk.Purpose != store.PurposeSession {
		t.Fatalf("the new session: %+v %v", tk, err)
	}

	r, tok := e.page(c, "/profile")
	wantPage(t, r, http.StatusOK, "john@example.com")
	if r := e.form(c, "/logout", url.Values{"csrf": {tok}}, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("log out: %d %s", r.StatusCode, r.body)
	}
	if now := e.cookie(c, csrfCookie); now == "" || now == tok {
		t.Fatalf("form token not rotated at log-out: before %q, after %q", tok, now)
	}
	if r := e.form(c, "/login", url.Values{"csrf": {tok}, "email": {"john@example.com"}, "password": {testPassword}}, nil); r.StatusCode != http.StatusForbidden {
		t.Fatalf("a log-in with the pre-log-out token answered %d, want 403", r.StatusCode)
	}
}

// TestHSTSOnlyOnHTTPSAnswers: Strict-Transport-Security on every portal
// answer that goes out over https (TLS, or --portal-https behind a proxy),
// including the answer for a host with no portal; never on plain http.
func TestHSTSOnlyOnHTTPSAnswers(t *testing.T) {
	t.Parallel()
	plain := newEnv(t)
	proxied := newEnv(t, func(c *Config, _ *store.Portal) { c.SecureCookies = true })

	// The plain env's portal, served over TLS.
	tlsSrv := httptest.NewUnstartedServer(New(plain.cfg, Deps{Store: plain.st, Recorder: store.LogRecorder{Log: plain.st},
		Mailer: plain.outbox, Clock: plain.clk}))
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	tr := tlsSrv.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: tr.TLSClientConfig.RootCAs, ServerName: "example.com"}
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, tlsSrv.Listener.Addr().String())
	}
	t.Cleanup(tr.CloseIdleConnections)
	tlsClient := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	_, port, _ := net.SplitHostPort(tlsSrv.Listener.Addr().String())

	const want = "max-age=31536000"
	cases := []struct {
		name string
		c    *http.Client
		base string
		want string
	}{
		{"plain http", plain.client, plain.base, ""},
		{"behind a TLS proxy (--portal-https)", proxied.client, proxied.base, want},
		{"TLS", tlsClient, "https://" + testDomain + ":" + port, want},
	}
	for _, c := range cases {
		for _, target := range []string{"/login", "/profile", "/api/v2/developer/me", "/assets/portal.css"} {
			for _, host := range []string{"", "no-portal.localhost"} {
				req, _ := http.NewRequest(http.MethodGet, c.base+target, nil)
				if host != "" {
					req.Host = host
				}
				res, err := c.c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if got := res.Header.Get("Strict-Transport-Security"); got != c.want {
					t.Errorf("%s %s%s: Strict-Transport-Security %q, want %q", c.name, host, target, got, c.want)
				}
			}
		}
	}
}

// TestSSOLogInEndsPresentedSessionAndRotatesFormToken: an SSO log-in, like
// a password one, ends the session the browser presented and gives it a
// new form token.
func TestSSOLogInEndsPresentedSessionAndRotatesFormToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, insecureDestinations)
	e.addIdP(startOP(t, e.base+ssoCallbackPath))
	e.signUp("jane@example.com")
	e.loginOK()
	janeAccess := e.cookie(e.client, accessCookie)
	_, tok := e.page(e.client, "/profile")
	if janeAccess == "" || tok == "" {
		t.Fatalf("no session (%q) or form token (%q) before the SSO log-in", janeAccess, tok)
	}

	if r := e.ssoRoundTrip(t); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("SSO log-in: %d %s", r.StatusCode, r.body)
	}
	if _, err := e.st.GetDeveloperToken(context.Background(), tokenHash(janeAccess)); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("the session the browser presented outlived the SSO log-in: %v", err)
	}
	if now := e.cookie(e.client, csrfCookie); now == "" || now == tok {
		t.Fatalf("form token not rotated at the SSO log-in: before %q, after %q", tok, now)
	}
	r, _ := e.page(e.client, "/profile")
	wantPage(t, r, http.StatusOK, "Grace@Example.com")
}
