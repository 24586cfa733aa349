package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/webform"
)

// cookie is the value of the browser's cookie name, "" when it has none.
func (b *browser) cookie(name string) string {
	b.e.t.Helper()
	u, err := url.Parse(b.e.srv.URL)
	if err != nil {
		b.e.t.Fatal(err)
	}
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// TestLogInAndLogOutRotateFormTokenAndEndPresentedSession: the form
// token a browser had before a log-in (or a log-out) is refused after it,
// and a log-in ends the session the browser presented, whoever's it was.
func TestLogInAndLogOutRotateFormTokenAndEndPresentedSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.user("ada@example.com", store.RoleOrgAdmin)
	e.user("bob@example.com", store.RoleReadOnly)
	b := e.browser()
	ctx := context.Background()

	b.get("/login")
	before := b.cookie(csrfCookie)
	if p := b.login("ada@example.com", testPassword); p.status != http.StatusSeeOther {
		t.Fatalf("log-in answered %d: %s", p.status, p.body)
	}
	adaSession := b.cookie(sessionCookie)
	afterLogin := b.cookie(csrfCookie)
	if before == "" || afterLogin == "" || afterLogin == before {
		t.Fatalf("form token not rotated at log-in: before %q, after %q", before, afterLogin)
	}
	// A form posted with the token of before the log-in is refused.
	if p := b.post("/tokens", "/tokens", url.Values{"csrf": {before}, "name": {"x"}, "role": {"read-only"}, "expires": {"1"}}); p.status != http.StatusForbidden {
		t.Fatalf("a form with the pre-log-in token answered %d, want 403", p.status)
	}

	// Bob logs in on the same browser: Ada's session ends with it.
	if p := b.login("bob@example.com", testPassword); p.status != http.StatusSeeOther {
		t.Fatalf("second log-in answered %d: %s", p.status, p.body)
	}
	if _, err := e.st.GetUserSession(ctx, webform.SecretHash(adaSession)); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("the session the browser presented outlived the new log-in: %v", err)
	}
	other := e.browser()
	srvURL, _ := url.Parse(e.srv.URL)
	other.c.Jar.SetCookies(srvURL, []*http.Cookie{{Name: sessionCookie, Value: adaSession}})
	if p := other.get("/tokens"); p.status != http.StatusSeeOther || p.location != "/login" {
		t.Fatalf("the ended session still opens pages: %d to %q", p.status, p.location)
	}
	bobSession, beforeLogout := b.cookie(sessionCookie), b.cookie(csrfCookie)
	if bobSession == "" || bobSession == adaSession {
		t.Fatalf("no new session: %q", bobSession)
	}

	if p := b.post("/", "/logout", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("log-out answered %d", p.status)
	}
	if after := b.cookie(csrfCookie); after == "" || after == beforeLogout {
		t.Fatalf("form token not rotated at log-out: before %q, after %q", beforeLogout, after)
	}
	if p := b.post("/login", "/login", url.Values{"csrf": {beforeLogout}, "email": {"bob@example.com"}, "password": {testPassword}}); p.status != http.StatusForbidden {
		t.Fatalf("a log-in with the pre-log-out token answered %d, want 403", p.status)
	}
}

// TestHSTSOnlyOnHTTPSAnswers: Strict-Transport-Security on every console
// answer that goes out over https (TLS, or --console-https behind a
// proxy), never on plain http.
func TestHSTSOnlyOnHTTPSAnswers(t *testing.T) {
	t.Parallel()
	plain := newEnv(t, Config{})
	proxied := newEnv(t, Config{SecureCookies: true})
	tlsSrv := httptest.NewTLSServer(plain.srv.Config.Handler)
	t.Cleanup(tlsSrv.Close)

	cases := []struct {
		name string
		c    *http.Client
		base string
		want string
	}{
		{"plain http", http.DefaultClient, plain.srv.URL, ""},
		{"behind a TLS proxy (--console-https)", http.DefaultClient, proxied.srv.URL, "max-age=31536000"},
		{"TLS", tlsSrv.Client(), tlsSrv.URL, "max-age=31536000"},
	}
	for _, c := range cases {
		for _, path := range []string{"/login", "/", "/assets/console.css", "/users/x"} {
			req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
			client := *c.c
			client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if got := res.Header.Get("Strict-Transport-Security"); got != c.want {
				t.Errorf("%s %s: Strict-Transport-Security %q, want %q", c.name, path, got, c.want)
			}
		}
	}
}
