package portal

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// page GETs a page and returns it with its form token.
func (e *testEnv) page(c *http.Client, path string) (response, string) {
	e.t.Helper()
	r := e.do(c, http.MethodGet, path, nil, nil)
	m := csrfField.FindSubmatch(r.body)
	if m == nil {
		return r, ""
	}
	return r, string(m[1])
}

func (e *testEnv) form(c *http.Client, path string, vals url.Values, hdr map[string]string) response {
	e.t.Helper()
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range hdr {
		h[k] = v
	}
	return e.do(c, http.MethodPost, path, vals.Encode(), h)
}

func wantPage(t *testing.T, r response, status int, contains ...string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("status %d, want %d:\n%s", r.StatusCode, status, r.body)
	}
	for _, s := range contains {
		if !strings.Contains(string(r.body), s) {
			t.Errorf("page lacks %q:\n%s", s, r.body)
		}
	}
}

func TestPagesSignUpLogInProfileLogOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.client

	r, tok := e.page(c, "/signup")
	wantPage(t, r, 200, "Create your account", `action="/signup"`)
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self'") {
		t.Errorf("CSP %q", csp)
	}
	r = e.form(c, "/signup", url.Values{"csrf": {tok}, "full_name": {"Jane Doe"}, "email": {"not-an-email"}}, nil)
	wantPage(t, r, 400, "Must be a valid email address.", `value="Jane Doe"`)
	r = e.form(c, "/signup", url.Values{"csrf": {tok}, "full_name": {"Jane Doe"}, "email": {"jane@example.com"}}, nil)
	wantPage(t, r, 200, "Check your email", "jane@example.com")

	link, _ := mailLink(t, e.nextMail())
	path := strings.TrimPrefix(link, e.base)
	r, tok = e.page(c, path)
	wantPage(t, r, 200, "Confirm your email", `action="/verify-email"`)

	// A typo is caught before the one-time token is used up.
	token := r.body[strings.Index(string(r.body), `name="token" value="`)+len(`name="token" value="`):]
	token = token[:36]
	r = e.form(c, "/verify-email", url.Values{"csrf": {tok}, "token": {string(token)}, "password": {testPassword}, "confirm": {testPassword + "x"}}, nil)
	wantPage(t, r, 400, "Does not match the password.")
	r = e.form(c, "/verify-email", url.Values{"csrf": {tok}, "token": {string(token)}, "password": {testPassword}, "confirm": {testPassword}}, nil)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login?m=password-set" {
		t.Fatalf("set password: %d %s %s", r.StatusCode, r.Header.Get("Location"), r.body)
	}

	r, tok = e.page(c, "/login?m=password-set")
	wantPage(t, r, 200, "Your password is set", `action="/login"`)
	r = e.form(c, "/login", url.Values{"csrf": {tok}, "email": {"jane@example.com"}, "password": {"wrong password"}}, nil)
	wantPage(t, r, 401, "Invalid email or password.", `value="jane@example.com"`)
	wrong := r
	r = e.form(c, "/login", url.Values{"csrf": {tok}, "email": {"jane@example.com"}, "password": {testPassword}}, nil)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/profile" {
		t.Fatalf("log in: %d %s %s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	d := e.developer("jane@example.com")
	e.assertEntries(
		e.wantEntry(wrong, "/api/v2/developer/authenticate", audit.OutcomeInvalidPassword, d.ID),
		e.wantEntry(r, "/api/v2/developer/authenticate", audit.OutcomeSuccess, d.ID),
	)

	r, tok = e.page(c, "/profile")
	wantPage(t, r, 200, "Your profile", "Jane Doe", "jane@example.com", d.ID, `action="/logout"`)
	r = e.form(c, "/logout", url.Values{"csrf": {tok}}, nil)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login?m=logged-out" {
		t.Fatalf("log out: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if r := e.do(c, http.MethodGet, "/profile", nil, nil); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
		t.Errorf("profile after log out: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
}

func TestPagesForgotAndResetPassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.signUp("jane@example.com")
	c := e.client
	r, tok := e.page(c, "/forgot-password")
	wantPage(t, r, 200, "Forgot your password?")
	r = e.form(c, "/forgot-password", url.Values{"csrf": {tok}, "email": {"jane@example.com"}}, nil)
	wantPage(t, r, 200, "Check your email")
	link, token := mailLink(t, e.nextMail())
	r, tok = e.page(c, strings.TrimPrefix(link, e.base))
	wantPage(t, r, 200, "Choose a new password", `action="/reset-password"`)
	r = e.form(c, "/reset-password", url.Values{"csrf": {tok}, "token": {token}, "password": {"a new password"}, "confirm": {"a new password"}}, nil)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login?m=password-set" {
		t.Fatalf("reset: %d %s %s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	// Used links say so.
	r = e.form(c, "/reset-password", url.Values{"csrf": {tok}, "token": {token}, "password": {"another password"}, "confirm": {"another password"}}, nil)
	wantPage(t, r, 404, "This link is not valid or was already used.")
	r, _ = e.page(c, "/reset-password?token=garbage")
	wantPage(t, r, 400, "This link is not valid.")
	if r := e.login(e.client, "jane@example.com", "a new password"); r.StatusCode != http.StatusNoContent {
		t.Errorf("login with the new password: %d", r.StatusCode)
	}
}

func TestPagesPendingDeveloperIsTold(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(_ *Config, p *store.Portal) { p.AutoApproveDevelopers = false })
	c := e.client
	_, tok := e.page(c, "/signup")
	e.form(c, "/signup", url.Values{"csrf": {tok}, "full_name": {"Pat"}, "email": {"pat@example.com"}}, nil)
	_, token := mailLink(t, e.nextMail())
	r := e.form(c, "/verify-email", url.Values{"csrf": {tok}, "token": {token}, "password": {testPassword}, "confirm": {testPassword}}, nil)
	if r.Header.Get("Location") != "/login?m=pending" {
		t.Fatalf("set password of a pending developer: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	r = e.form(c, "/api/v2/developer/authenticate", url.Values{"csrf": {tok}, "email": {"pat@example.com"}, "password": {testPassword}}, nil)
	wantPage(t, r, 401, "Your account is pending approval for access.")
}

func TestPagesExpiredSessionIsAudited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.signUp("jane@example.com")
	e.loginOK()
	e.clk.Advance(time.Hour)
	r := e.do(e.client, http.MethodGet, "/profile", nil, nil)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login?m=expired" {
		t.Fatalf("profile with an expired session: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	got := e.entries()
	if len(got) != 2 {
		t.Fatalf("%d entries", len(got))
	}
	want := e.wantEntry(r, "/profile", audit.OutcomeTokenExpired, d.ID)
	if got[1] != want {
		t.Errorf("entry\n got %+v\nwant %+v", got[1], want)
	}
}

func TestFormsNeedTheirToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.signUp("jane@example.com")
	c := e.client
	_, tok := e.page(c, "/login")
	other := e.newClient()
	_, otherTok := e.page(other, "/login")
	creds := url.Values{"email": {"jane@example.com"}, "password": {testPassword}}
	tests := []struct {
		name string
		c    *http.Client
		tok  string
		hdr  map[string]string
		want int
	}{
		{"no token", c, "", nil, 403},
		{"another browser's token", c, otherTok, nil, 403},
		{"a cookie-less browser", e.newClient(), tok, nil, 403},
		{"a cross-site post", c, tok, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"a post from another origin", c, tok, map[string]string{"Origin": "http://evil.localhost"}, 403},
		{"the right token", c, tok, nil, 303},
	}
	for _, tt := range tests {
		v := url.Values{"csrf": {tt.tok}}
		for k, x := range creds {
			v[k] = x
		}
		r := e.form(tt.c, "/api/v2/developer/authenticate", v, tt.hdr)
		if r.StatusCode != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, r.StatusCode, tt.want)
		}
	}
	// Only the last post reached authentication.
	if n := len(e.entries()); n != 1 {
		t.Errorf("%d audit entries, want 1", n)
	}
	// The JSON API refuses cross-site browser posts too.
	r := e.do(c, http.MethodPost, "/api/v2/developer/logout", nil, map[string]string{"Sec-Fetch-Site": "cross-site"})
	if r.StatusCode != 403 || r.problem(t)["detail"] != "Cross-origin request refused" {
		t.Errorf("cross-site logout: %d %s", r.StatusCode, r.body)
	}
}

func TestPasswordsNeverReachTheLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.signUp("jane@example.com")
	e.login(e.client, "jane@example.com", "wrong-secret-123")
	e.loginOK()
	logs := e.logs.String()
	for _, pw := range []string{testPassword, "wrong-secret-123"} {
		if strings.Contains(logs, pw) {
			t.Errorf("password %q found in the log:\n%s", pw, logs)
		}
	}
}

func TestUnknownPagesAnd404(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do(e.client, http.MethodGet, "/nowhere", nil, nil)
	wantPage(t, r, 404, "Page not found")
	r = e.do(e.client, http.MethodGet, "/assets/portal.css", nil, nil)
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("css: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	r = e.do(e.client, http.MethodGet, "/", nil, nil)
	wantPage(t, r, 200, "Welcome to Acme Developers")
}

// TestStoreDownIsA503: with the store gone, the listener says the service
// is unavailable (a dependency failed), not that the request was wrong or
// that sigtrail has a bug.
func TestStoreDownIsA503(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	r := e.do(e.client, http.MethodGet, "/login", nil, nil)
	if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
		t.Errorf("store down: %d %v %s", r.StatusCode, r.Header, r.body)
	}
	if !strings.Contains(e.logs.String(), "portal lookup") {
		t.Errorf("the failure was not logged: %s", e.logs.String())
	}
}
