package portal

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

// cookie is the value of c's cookie name for the portal, "" when none.
func (e *testEnv) cookie(c *http.Client, name string) string {
	e.t.Helper()
	return e.cookieAt(c, "/", name)
}

// cookieAt is the value of c's cookie name that a request to path would
// carry: the refresh cookie only goes to refreshPath.
func (e *testEnv) cookieAt(c *http.Client, path, name string) string {
	e.t.Helper()
	u, err := url.Parse(e.base + path)
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

// wantRefreshEnded fails unless the refresh secret is gone from the store
// and a fresh client presenting it to the refresh endpoint is refused.
func (e *testEnv) wantRefreshEnded(secret, why string) {
	e.t.Helper()
	if secret == "" {
		e.t.Fatalf("%s: no refresh cookie to check", why)
	}
	if _, err := e.st.GetDeveloperToken(context.Background(), tokenHash(secret)); !apperr.Is(err, apperr.NotFound) {
		e.t.Fatalf("%s: the refresh token outlived it: %v", why, err)
	}
	r := e.do(e.newClient(), http.MethodPost, refreshPath, nil, map[string]string{"Cookie": refreshCookie + "=" + secret})
	if r.StatusCode != http.StatusUnauthorized {
		e.t.Fatalf("%s: the old refresh secret answered %d, want 401", why, r.StatusCode)
	}
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
	janeRefresh := e.cookieAt(c, refreshPath, refreshCookie)
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
	// The browser sent no refresh cookie to the log-in (its path is the
	// refresh endpoint): the access token's session ends all the same.
	e.wantRefreshEnded(janeRefresh, "John's log-in on Jane's browser")
	johnAccess := e.cookie(c, accessCookie)
	johnRefresh := e.cookieAt(c, refreshPath, refreshCookie)
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
	e.wantRefreshEnded(johnRefresh, "John's log-out")
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
// a password one, ends the session the browser presented (its refresh
// token too, which the browser does not send to the callback) and gives
// it a new form token.
func TestSSOLogInEndsPresentedSessionAndRotatesFormToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, insecureDestinations)
	e.addIdP(startOP(t, e.base+ssoCallbackPath))
	e.signUp("jane@example.com")
	e.loginOK()
	janeAccess := e.cookie(e.client, accessCookie)
	janeRefresh := e.cookieAt(e.client, refreshPath, refreshCookie)
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
	e.wantRefreshEnded(janeRefresh, "the SSO log-in")
	if now := e.cookie(e.client, csrfCookie); now == "" || now == tok {
		t.Fatalf("form token not rotated at the SSO log-in: before %q, after %q", tok, now)
	}
	r, _ := e.page(e.client, "/profile")
	wantPage(t, r, http.StatusOK, "Grace@Example.com")
}

// TestLogInEndsTheWholePresentedSession: the session a log-in (or a
// log-out) ends is the presented access token's whole session: its
// refresh token when the access token has expired, and the pairs a
// refresh traded it for, whoever holds them; once the browser dropped the
// expired access cookie, the session cookie names the session.
func TestLogInEndsTheWholePresentedSession(t *testing.T) {
	t.Parallel()
	dropAccessCookie := func(e *testEnv, c *http.Client) {
		u, _ := url.Parse(e.base + "/")
		c.Jar.SetCookies(u, []*http.Cookie{{Name: accessCookie, Path: "/", MaxAge: -1}})
		if e.cookie(c, accessCookie) != "" || e.cookie(c, sessionCookie) == "" {
			t.Fatalf("the jar still has the access cookie, or no session cookie")
		}
	}
	cases := []struct {
		name   string
		logout bool // end with a log-out instead of a second log-in
		// between runs after the first log-in on c; it returns the refresh
		// secret that the second log-in must end and a client whose
		// session must end with it.
		between func(e *testEnv, c *http.Client) (string, *http.Client)
	}{
		{name: "expired access token", between: func(e *testEnv, c *http.Client) (string, *http.Client) {
			e.clk.Advance(2 * time.Hour) // the session expired; the refresh secret did not
			return e.cookieAt(c, refreshPath, refreshCookie), nil
		}},
		{name: "refreshed on another client", between: func(e *testEnv, c *http.Client) (string, *http.Client) {
			thief := e.newClient()
			r := e.do(thief, http.MethodPost, refreshPath, nil, map[string]string{"Cookie": refreshCookie + "=" + e.cookieAt(c, refreshPath, refreshCookie)})
			if r.StatusCode != http.StatusNoContent {
				t.Fatalf("refresh on another client: %d %s", r.StatusCode, r.body)
			}
			if r := e.do(thief, http.MethodGet, "/api/v2/developer/me", nil, nil); r.StatusCode != http.StatusOK {
				t.Fatalf("me on the other client: %d", r.StatusCode)
			}
			return e.cookieAt(thief, refreshPath, refreshCookie), thief
		}},
		{name: "access cookie dropped", between: func(e *testEnv, c *http.Client) (string, *http.Client) {
			dropAccessCookie(e, c)
			return e.cookieAt(c, refreshPath, refreshCookie), nil
		}},
		{name: "log-out after the access cookie dropped", logout: true, between: func(e *testEnv, c *http.Client) (string, *http.Client) {
			dropAccessCookie(e, c)
			return e.cookieAt(c, refreshPath, refreshCookie), nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.signUp("jane@example.com")
			c := e.newClient()
			if r := e.login(c, "jane@example.com", testPassword); r.StatusCode != http.StatusNoContent {
				t.Fatalf("log in: %d %s", r.StatusCode, r.body)
			}
			refresh, other := tc.between(e, c)
			if tc.logout {
				if r := e.do(c, http.MethodPost, "/api/v2/developer/logout", nil, nil); r.StatusCode != http.StatusNoContent {
					t.Fatalf("log out: %d %s", r.StatusCode, r.body)
				}
				e.wantRefreshEnded(refresh, "the log-out")
				return
			}
			if r := e.login(c, "jane@example.com", testPassword); r.StatusCode != http.StatusNoContent {
				t.Fatalf("log in again: %d %s", r.StatusCode, r.body)
			}
			e.wantRefreshEnded(refresh, "the second log-in")
			if other != nil {
				if r := e.do(other, http.MethodGet, "/api/v2/developer/me", nil, nil); r.StatusCode != http.StatusUnauthorized {
					t.Fatalf("me on the other client after the log-in: %d, want 401", r.StatusCode)
				}
			}
			if r := e.do(c, http.MethodGet, "/api/v2/developer/me", nil, nil); r.StatusCode != http.StatusOK {
				t.Fatalf("me with the new session: %d", r.StatusCode)
			}
		})
	}
}
