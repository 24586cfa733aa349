package portal

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/customdomain"
	"github.com/sigtrail/sigtrail/internal/dnstest"
	"github.com/sigtrail/sigtrail/internal/store"
)

func TestSignUpAndSessionThroughTheAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	r := e.post("/api/v2/developer", map[string]string{"email": "jane@example.com", "full_name": "Jane Doe"})
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d %s", r.StatusCode, r.body)
	}
	m := e.nextMail()
	if m.To != "jane@example.com" || m.From != "portal@acme.test" {
		t.Errorf("envelope %s -> %s", m.From, m.To)
	}
	if got := m.Header.Get("Subject"); got != "Verify your email for Acme Developers" {
		t.Errorf("subject %q", got)
	}
	link, token := mailLink(t, m)
	if want := e.base + "/verify-email?token=" + token; link != want {
		t.Errorf("link %q, want %q", link, want)
	}
	d := e.developer("jane@example.com")
	if d.Status != store.DeveloperApproved || d.EmailVerified || d.PasswordHash != "" || d.FullName != "Jane Doe" || d.OrgID != e.org.ID {
		t.Errorf("new developer %+v", d)
	}

	r = e.post("/api/v2/developer/verify-email", map[string]string{"token": token})
	if r.StatusCode != http.StatusAccepted {
		t.Fatalf("verify-email: %d %s", r.StatusCode, r.body)
	}
	var v map[string]string
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatal(err)
	}
	if v["email"] != "jane@example.com" || len(v["token"]) != 36 || len(v) != 2 {
		t.Errorf("verify-email answer %v", v)
	}
	// The emailed token works once.
	if r := e.post("/api/v2/developer/verify-email", map[string]string{"token": token}); r.StatusCode != http.StatusNotFound {
		t.Errorf("second verify-email: %d %s", r.StatusCode, r.body)
	}
	if r := e.post("/api/v2/developer/reset-password", map[string]string{"token": v["token"], "password": testPassword}); r.StatusCode != http.StatusNoContent {
		t.Fatalf("reset-password: %d %s", r.StatusCode, r.body)
	}
	d = e.developer("jane@example.com")
	if !d.EmailVerified || !strings.HasPrefix(d.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("after reset: verified %v hash %q", d.EmailVerified, d.PasswordHash)
	}

	r = e.login(e.client, "jane@example.com", testPassword)
	if r.StatusCode != http.StatusNoContent {
		t.Fatalf("authenticate: %d %s", r.StatusCode, r.body)
	}
	cookies := map[string]*http.Cookie{}
	for _, c := range r.Cookies() {
		cookies[c.Name] = c
	}
	for name, path := range map[string]string{accessCookie: "/", refreshCookie: refreshPath} {
		c := cookies[name]
		if c == nil || !c.HttpOnly || c.Secure || c.Path != path || c.SameSite == http.SameSiteNoneMode || c.SameSite == http.SameSiteDefaultMode || c.MaxAge <= 0 {
			t.Errorf("cookie %s: %+v", name, c)
		}
	}
	if got := cookies[accessCookie].MaxAge; got != 3600 {
		t.Errorf("session max-age %d, want 3600", got)
	}
	e.assertEntries(e.wantEntry(r, "/api/v2/developer/authenticate", audit.OutcomeSuccess, d.ID))

	r = e.do(e.client, http.MethodGet, "/api/v2/developer/me", nil, nil)
	if r.StatusCode != http.StatusOK || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("me: %d %s", r.StatusCode, r.body)
	}
	var me map[string]string
	if err := json.Unmarshal(r.body, &me); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"id": d.ID, "email": "jane@example.com", "full_name": "Jane Doe",
		"created_at": d.CreatedAt.UTC().Format(time.RFC3339), "updated_at": d.UpdatedAt.UTC().Format(time.RFC3339)}
	if len(me) != len(want) {
		t.Errorf("me %v, want %v", me, want)
	}
	for k, w := range want {
		if me[k] != w {
			t.Errorf("me[%s] = %q, want %q", k, me[k], w)
		}
	}

	if r := e.post("/api/v2/developer/logout", nil); r.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.StatusCode, r.body)
	}
	if r := e.do(e.client, http.MethodGet, "/api/v2/developer/me", nil, nil); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("me after logout: %d", r.StatusCode)
	}
	// Logging out ended the session in the store, not only in the browser:
	// replaying the old cookie fails too.
	r2 := e.do(e.newClient(), http.MethodGet, "/api/v2/developer/me", nil, map[string]string{"Cookie": accessCookie + "=" + cookies[accessCookie].Value})
	if r2.StatusCode != http.StatusUnauthorized {
		t.Errorf("me with the logged-out cookie: %d", r2.StatusCode)
	}
	// me, logout and failed session lookups are not authentication attempts.
	if n := len(e.entries()); n != 1 {
		t.Errorf("audit stream holds %d entries, want 1", n)
	}
}

func TestPortalIsChosenByHost(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(_ *Config, p *store.Portal) { p.CustomDomain = "developers.acme.test" })
	get := func(host string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+e.addr+"/login", nil)
		req.Host = host
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("host %q: %s", host, resp.Header.Get("Content-Type"))
		}
		return resp.StatusCode
	}
	// The custom domain is a claim: not served until DNS shows it to be
	// a CNAME of the portal's default domain.
	srv := dnstest.Start(t)
	checker := customdomain.New(customdomain.Config{LookupTimeout: time.Second},
		customdomain.Deps{Store: e.st, Resolver: customdomain.NewDNSResolver([]string{srv.Addr}), Clock: e.clk})
	srv.A(e.portal.DefaultDomain)
	srv.CNAME("developers.acme.test", "acme.example.net")
	if ch, err := checker.Check(t.Context(), e.portal.ID); err != nil || ch.Verified {
		t.Fatalf("check with a wrong CNAME: %+v %v", ch, err)
	}
	if got := get("developers.acme.test"); got != http.StatusNotFound {
		t.Fatalf("pending custom domain: %d, want 404", got)
	}
	srv.CNAME("developers.acme.test", e.portal.DefaultDomain)
	if ch, err := checker.Check(t.Context(), e.portal.ID); err != nil || !ch.Verified {
		t.Fatalf("check with the CNAME: %+v %v", ch, err)
	}
	tests := []struct {
		host   string
		status int
	}{
		{"acme.localhost", http.StatusOK},
		{"ACME.localhost.", http.StatusOK},
		{"developers.acme.test", http.StatusOK},
		{"Developers.Acme.Test:8443", http.StatusOK},
		{"other.localhost", http.StatusNotFound},
		{"127.0.0.1", http.StatusNotFound},
	}
	for _, tt := range tests {
		if got := get(tt.host); got != tt.status {
			t.Errorf("host %q: %d, want %d", tt.host, got, tt.status)
		}
	}
}

func TestBadRequestsAreProblems(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name, path string
		body       any
		status     int
		field      string // first invalid parameter, for 400
		detail     string
	}{
		{"register without email", "/api/v2/developer", map[string]string{"full_name": "A"}, 400, "email", "Required fields are missing"},
		{"register without name", "/api/v2/developer", map[string]string{"email": "a@example.com"}, 400, "full_name", "Required fields are missing"},
		{"register with empty name", "/api/v2/developer", map[string]string{"email": "a@example.com", "full_name": "  "}, 400, "full_name", "Required fields are missing"},
		{"register with a display name", "/api/v2/developer", map[string]string{"email": "A <a@example.com>", "full_name": "A"}, 400, "email", "Invalid email address"},
		{"register with a newline in the name", "/api/v2/developer", map[string]string{"email": "a@example.com", "full_name": "A\r\nBcc: x@y"}, 400, "full_name", "Invalid full name"},
		{"register with an unknown field", "/api/v2/developer", `{"email":"a@example.com","full_name":"A","role":"admin"}`, 400, "role", "Invalid request"},
		{"register with a number", "/api/v2/developer", `{"email":1,"full_name":"A"}`, 400, "email", "Invalid request"},
		{"register with broken JSON", "/api/v2/developer", `{"email":`, 400, "body", "Invalid request"},
		{"register with an empty body", "/api/v2/developer", "", 400, "body", "Request body is required"},
		{"verify with a token that is no UUID", "/api/v2/developer/verify-email", map[string]string{"token": "abc"}, 400, "token", "The provided token is invalid"},
		{"verify with an unknown token", "/api/v2/developer/verify-email", map[string]string{"token": "c8efd006-d8e1-4743-b91b-f163b9eae06a"}, 404, "", "The provided token was not found"},
		{"reset with a short password", "/api/v2/developer/reset-password", map[string]string{"token": "c8efd006-d8e1-4743-b91b-f163b9eae06a", "password": "short"}, 400, "password", "Invalid password"},
		{"reset without a token", "/api/v2/developer/reset-password", map[string]string{"password": testPassword}, 400, "token", "Required fields are missing"},
		{"reset with an unknown token", "/api/v2/developer/reset-password", map[string]string{"token": "c8efd006-d8e1-4743-b91b-f163b9eae06a", "password": testPassword}, 404, "", "The provided token was not found"},
		{"forgot without email", "/api/v2/developer/forgot-password", `{}`, 400, "email", "Required fields are missing"},
		{"authenticate without password", "/api/v2/developer/authenticate", map[string]string{"username": "a@example.com"}, 400, "password", "Required fields are missing"},
		{"authenticate with a bad username", "/api/v2/developer/authenticate", map[string]string{"username": "nobody", "password": "x"}, 400, "username", "Invalid email address"},
		{"unknown API path", "/api/v2/developer/nothing", nil, 404, "", "Not Found"},
		{"wrong method", "/api/v2/developer/authenticate", nil, 405, "", "Use POST on this path"},
		{"body too large", "/api/v2/developer", `{"email":"` + strings.Repeat("a", maxBody) + `"}`, 413, "", "Request body is larger than 16384 bytes"},
	}
	for _, tt := range tests {
		method := http.MethodPost
		if tt.body == nil {
			method = http.MethodGet
		}
		r := e.do(e.client, method, tt.path, tt.body, nil)
		if r.StatusCode != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.name, r.StatusCode, r.body, tt.status)
			continue
		}
		p := r.problem(t)
		if p["detail"] != tt.detail || p["status"] != float64(tt.status) || !strings.HasPrefix(p["instance"].(string), "kong:trace:") {
			t.Errorf("%s: problem %v", tt.name, p)
		}
		if tt.field != "" {
			params, _ := p["invalid_parameters"].([]any)
			if len(params) == 0 || params[0].(map[string]any)["field"] != tt.field {
				t.Errorf("%s: invalid_parameters %v, want field %s", tt.name, p["invalid_parameters"], tt.field)
			}
		}
	}
	if r := e.do(e.client, http.MethodPost, "/api/v2/developer", "x", map[string]string{"Content-Type": "text/plain"}); r.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain register: %d", r.StatusCode)
	}
	e.noMail()
	// Bad requests write nothing, but for the log-in with a username that
	// is no email: still an attempt, NOT_FOUND (TestLogInWithAUserNameIsRecorded).
	if es := e.entries(); len(es) != 1 || es[0].Name != string(audit.OutcomeNotFound) {
		t.Errorf("bad requests wrote %d audit entries: %+v", len(es), es)
	}
}

func TestEmailedTokensExpire(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if r := e.post("/api/v2/developer", map[string]string{"email": "late@example.com", "full_name": "Late"}); r.StatusCode != http.StatusCreated {
		t.Fatal(r.StatusCode)
	}
	_, token := mailLink(t, e.nextMail())
	e.clk.Advance(24 * time.Hour)
	r := e.post("/api/v2/developer/verify-email", map[string]string{"token": token})
	if r.StatusCode != http.StatusGone || r.problem(t)["detail"] != "The token has expired" {
		t.Fatalf("expired verify token: %d %s", r.StatusCode, r.body)
	}
	// forgot-password recovers the account: it mails a fresh link.
	if r := e.post("/api/v2/developer/forgot-password", map[string]string{"email": "late@example.com"}); r.StatusCode != http.StatusOK {
		t.Fatal(r.StatusCode)
	}
	link, reset := mailLink(t, e.nextMail())
	if !strings.HasPrefix(link, e.base+"/reset-password?token=") {
		t.Errorf("reset link %q", link)
	}
	e.clk.Advance(time.Hour)
	if r := e.post("/api/v2/developer/reset-password", map[string]string{"token": reset, "password": testPassword}); r.StatusCode != http.StatusGone {
		t.Fatalf("expired reset token: %d %s", r.StatusCode, r.body)
	}
}

func TestNoAccountEnumeration(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.signUp("jane@example.com")

	// Registering a taken address answers the same and mails its owner.
	r := e.post("/api/v2/developer", map[string]string{"email": "JANE@example.com", "full_name": "Mallory"})
	if r.StatusCode != http.StatusCreated || len(r.body) != 0 {
		t.Fatalf("second register: %d %s", r.StatusCode, r.body)
	}
	if m := e.nextMail(); m.To != "jane@example.com" || !strings.Contains(m.Body, e.base+"/forgot-password") {
		t.Errorf("notice to %s: %s", m.To, m.Body)
	}
	if got := e.developer("jane@example.com"); got.FullName != "Jane Doe" || got.ID != d.ID {
		t.Errorf("developer changed: %+v", got)
	}

	// forgot-password answers the same for known and unknown addresses.
	for _, email := range []string{"jane@example.com", "nobody@example.com"} {
		if r := e.post("/api/v2/developer/forgot-password", map[string]string{"email": email}); r.StatusCode != http.StatusOK || len(r.body) != 0 {
			t.Errorf("forgot %s: %d %s", email, r.StatusCode, r.body)
		}
	}
	if m := e.nextMail(); m.To != "jane@example.com" {
		t.Errorf("reset mail to %s", m.To)
	}
	e.noMail()

	// Unknown email, wrong password and a locked account read the same.
	unknown := e.login(e.client, "nobody@example.com", testPassword)
	wrong := e.login(e.client, "jane@example.com", "wrong password")
	for i := 0; i < 4; i++ {
		e.login(e.client, "jane@example.com", "wrong password")
	}
	locked := e.login(e.client, "jane@example.com", testPassword)
	strip := func(r response) map[string]any {
		p := r.problem(t)
		delete(p, "instance")
		return p
	}
	u, w, l := strip(unknown), strip(wrong), strip(locked)
	if unknown.StatusCode != 401 || wrong.StatusCode != 401 || locked.StatusCode != 401 {
		t.Fatalf("statuses %d %d %d", unknown.StatusCode, wrong.StatusCode, locked.StatusCode)
	}
	ub, _ := json.Marshal(u)
	wb, _ := json.Marshal(w)
	lb, _ := json.Marshal(l)
	if string(ub) != string(wb) || string(wb) != string(lb) {
		t.Errorf("answers differ:\nunknown %s\nwrong   %s\nlocked  %s", ub, wb, lb)
	}
	if u["detail"] != "You have entered an invalid email or password." {
		t.Errorf("detail %v", u["detail"])
	}
}

func TestRefreshRotatesTheSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.signUp("jane@example.com")
	login := e.login(e.client, "jane@example.com", testPassword)
	var oldRefresh string
	for _, c := range login.Cookies() {
		if c.Name == refreshCookie {
			oldRefresh = c.Value
		}
	}
	e.clk.Advance(2 * time.Hour) // the session expired; the refresh secret did not
	me := e.do(e.client, http.MethodGet, "/api/v2/developer/me", nil, nil)
	if me.StatusCode != http.StatusUnauthorized {
		t.Fatalf("me with an expired session: %d", me.StatusCode)
	}
	r := e.post("/api/v2/developer/refresh", nil)
	if r.StatusCode != http.StatusNoContent || len(r.Cookies()) != 3 {
		t.Fatalf("refresh: %d %s %v", r.StatusCode, r.body, r.Cookies())
	}
	if r := e.do(e.client, http.MethodGet, "/api/v2/developer/me", nil, nil); r.StatusCode != http.StatusOK {
		t.Errorf("me after refresh: %d", r.StatusCode)
	}
	// The old refresh secret was used up.
	reuse := e.do(e.newClient(), http.MethodPost, "/api/v2/developer/refresh", nil, map[string]string{"Cookie": refreshCookie + "=" + oldRefresh})
	if reuse.StatusCode != http.StatusUnauthorized {
		t.Errorf("reused refresh: %d", reuse.StatusCode)
	}
	e.assertEntries(
		e.wantEntryAt(login, "/api/v2/developer/authenticate", audit.OutcomeSuccess, d.ID, e.clk.Now().Add(-2*time.Hour)),
		e.wantEntry(me, "/api/v2/developer/me", audit.OutcomeTokenExpired, d.ID),
		e.wantEntry(r, "/api/v2/developer/refresh", audit.OutcomeSuccess, d.ID),
	)
}

func (e *testEnv) wantEntryAt(r response, path string, o audit.Outcome, principal string, at time.Time) audit.Entry {
	e.t.Helper()
	w := e.wantEntry(r, path, o, principal)
	w.Time = at.UTC()
	return w
}

func TestSignInDisabledPortal(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(_ *Config, p *store.Portal) { p.AuthenticationEnabled = false })
	r := e.post("/api/v2/developer", map[string]string{"email": "a@example.com", "full_name": "A"})
	if r.StatusCode != http.StatusNotFound {
		t.Errorf("register on a portal without sign-in: %d", r.StatusCode)
	}
	r = e.login(e.client, "a@example.com", testPassword)
	if r.StatusCode != http.StatusNotFound {
		t.Errorf("authenticate on a portal without sign-in: %d", r.StatusCode)
	}
	e.noMail()
	if n := len(e.entries()); n != 0 {
		t.Errorf("%d audit entries", n)
	}
}

func TestSecureCookiesAndLinksBehindTLS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config, _ *store.Portal) { c.SecureCookies = true })
	e.post("/api/v2/developer", map[string]string{"email": "jane@example.com", "full_name": "Jane Doe"})
	link, _ := mailLink(t, e.nextMail())
	_, port, _ := net.SplitHostPort(e.addr)
	if want := "https://" + testDomain + ":" + port + "/verify-email?token="; !strings.HasPrefix(link, want) {
		t.Errorf("link %q, want prefix %q", link, want)
	}
	d := e.signUpExisting("jane@example.com", link)
	r := e.login(e.client, d.Email, testPassword)
	if r.StatusCode != http.StatusNoContent {
		t.Fatalf("login: %d %s", r.StatusCode, r.body)
	}
	for _, c := range r.Cookies() {
		if !c.Secure || !c.HttpOnly {
			t.Errorf("cookie %s: secure %v httponly %v", c.Name, c.Secure, c.HttpOnly)
		}
	}
}

// TestForgotPasswordDoesNotWaitForTheMail: the answer for an address with
// an account must not wait on the SMTP relay, or its delay would tell
// known addresses from unknown ones. The relay here accepts and then says
// nothing; the answer comes while it still holds the connection.
func TestForgotPasswordDoesNotWaitForTheMail(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		l.Close()
		select {
		case c := <-accepted:
			c.Close()
		default:
		}
	})
	e := newEnvRelay(t, l.Addr().String())
	now := e.clk.Now()
	if err := e.st.CreateDeveloper(t.Context(), store.Developer{ID: uuid.Must(uuid.NewV7()).String(), PortalID: e.portal.ID,
		OrgID: e.org.ID, Email: "jane@example.com", FullName: "Jane Doe", Status: store.DeveloperApproved,
		EmailVerified: true, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"nobody@example.com", "jane@example.com"} {
		if r := e.post("/api/v2/developer/forgot-password", map[string]string{"email": email}); r.StatusCode != http.StatusOK {
			t.Fatalf("forgot %s: %d %s", email, r.StatusCode, r.body)
		}
	}
	// The reset email is on its way: the relay has its connection, and the
	// mailer is still waiting for the greeting, so it has not hung up.
	var c net.Conn
	select {
	case c = <-accepted:
	case <-time.After(10 * time.Second):
		t.Fatal("the reset email never reached the relay")
	}
	defer c.Close()
	if err := c.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	var b [1]byte
	if _, err := c.Read(b[:]); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the mailer gave up on the relay before the test looked (%v): the answer waited for it", err)
	}
}
