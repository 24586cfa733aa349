package console

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// authEntries are the authentication entries of a stream.
func authEntries(e *env, stream string) []audit.Entry {
	var out []audit.Entry
	for _, x := range e.entries(stream) {
		if x.Entry.Kind == audit.KindAuthentication {
			out = append(out, x.Entry)
		}
	}
	return out
}

func TestLogInOutcomesAreAuditedAsKongApplicationLogIns(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	ada := e.user("ada@example.com", store.RoleOrgAdmin)
	off := e.user("off@example.com", store.RoleReadOnly)
	off.Disabled = true
	if err := e.st.UpdateUser(context.Background(), off); err != nil {
		t.Fatal(err)
	}
	b := e.browser()

	// An unknown address, a wrong password and a locked account get the
	// same answer; each is recorded with its outcome.
	unknown := b.login("nobody@example.com", testPassword)
	wrong := b.login("ada@example.com", "not the password")
	for _, p := range []page{unknown, wrong} {
		if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "Invalid email or password") {
			t.Fatalf("failed log-in answered %d: %s", p.status, p.body)
		}
	}
	if strip(unknown.body) != strip(wrong.body) {
		t.Errorf("unknown address and wrong password answer differently:\n%s\n---\n%s", strip(unknown.body), strip(wrong.body))
	}
	for range 4 { // five failures lock (the default policy)
		b.login("ada@example.com", "not the password")
	}
	locked := b.login("ada@example.com", testPassword)
	if locked.status != http.StatusUnauthorized || strip(locked.body) != strip(wrong.body) {
		t.Errorf("the locked account answered %d differently: %s", locked.status, locked.body)
	}
	disabled := b.login("off@example.com", testPassword)
	if disabled.status != http.StatusUnauthorized || !strings.Contains(disabled.body, "disabled") {
		t.Errorf("the disabled account answered %d: %s", disabled.status, disabled.body)
	}
	// Time passes the lock; a good password opens a session.
	e.clk.Advance(16 * time.Minute)
	ok := b.login("ada@example.com", testPassword)
	if ok.status != http.StatusSeeOther || ok.location != "/" {
		t.Fatalf("log-in answered %d to %q: %s", ok.status, ok.location, ok.body)
	}

	var outcomes []string
	for _, x := range authEntries(e, e.org.ID) {
		if x.ClassID != audit.AuthTypeBasic || x.Product != audit.ProductKonnect || x.Request != "/login" || x.OrgID != e.org.ID || x.Src != "127.0.0.1" || x.TraceID == "" {
			t.Errorf("entry %+v is not a Konnect basic log-in", x)
		}
		want := ada.ID
		if x.Name == string(audit.OutcomeDisabled) {
			want = off.ID
		}
		if x.PrincipalID != want {
			t.Errorf("entry %s names %q, want %q", x.Name, x.PrincipalID, want)
		}
		outcomes = append(outcomes, strings.TrimPrefix(x.Name, "AUTHENTICATION_OUTCOME_"))
	}
	want := "INVALID_PASSWORD INVALID_PASSWORD INVALID_PASSWORD INVALID_PASSWORD INVALID_PASSWORD LOCKED DISABLED SUCCESS"
	if got := strings.Join(outcomes, " "); got != want {
		t.Errorf("org log outcomes\n got %s\nwant %s", got, want)
	}
	sys := authEntries(e, e.systemOrg())
	if len(sys) != 1 || sys[0].Name != string(audit.OutcomeNotFound) || sys[0].PrincipalID != "" || sys[0].ClassID != audit.AuthTypeBasic {
		t.Errorf("system org log = %+v, want one NOT_FOUND", sys)
	}
}

// strip drops what differs between any two answers: the CSRF token and
// the address typed, which the form shows back.
func strip(body string) string {
	return emailValue.ReplaceAllString(csrfField.ReplaceAllString(body, ""), "")
}

var emailValue = regexp.MustCompile(`name="email" type="email" autocomplete="username" required value="[^"]*"`)

func TestSessionCookieExpiryRestartAndLogOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{SessionTTL: time.Hour})
	u := e.user("ada@example.com", store.RoleOrgAdmin)
	b := e.browser()
	res := b.login("ada@example.com", testPassword)
	var session *http.Cookie
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == sessionCookie {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Secure || session.MaxAge != 3600 {
		t.Fatalf("session cookie %+v", session)
	}
	if p := b.get("/"); p.status != http.StatusOK || !strings.Contains(p.body, "ada@example.com") {
		t.Fatalf("overview answered %d", p.status)
	}
	// A restart: a new console on the same store knows the session.
	restarted := New(Config{Argon2: cheapArgon}, Deps{Store: e.st, API: e.h.api, Clock: e.clk})
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(session)
	rec := newRecorder()
	restarted.ServeHTTP(rec, req)
	if rec.status != http.StatusOK {
		t.Fatalf("after a restart the session answered %d", rec.status)
	}
	// It expires.
	e.clk.Advance(time.Hour)
	if p := b.get("/"); p.status != http.StatusSeeOther || p.location != "/login?m=expired" {
		t.Fatalf("expired session answered %d to %q", p.status, p.location)
	}
	if got := authEntries(e, e.org.ID); got[len(got)-1].Name != string(audit.OutcomeTokenExpired) || got[len(got)-1].PrincipalID != u.ID {
		t.Errorf("the expired session was not recorded: %+v", got[len(got)-1])
	}
	// Log in again, log out: the session ends and the log-out is recorded.
	b.login("ada@example.com", testPassword)
	out := b.post("/", "/logout", url.Values{})
	if out.status != http.StatusSeeOther || out.location != "/login?m=logged-out" {
		t.Fatalf("log-out answered %d to %q", out.status, out.location)
	}
	if p := b.get("/"); p.status != http.StatusSeeOther || p.location != "/login" {
		t.Fatalf("after log-out the overview answered %d to %q", p.status, p.location)
	}
	es := e.entries(e.org.ID)
	last := es[len(es)-1].Entry
	if last.Kind != audit.KindAccess || last.Request != "/logout" || last.Act != http.MethodPost || last.PrincipalID != u.ID || last.Status != http.StatusSeeOther {
		t.Errorf("last entry %+v, want the log-out", last)
	}
}

func TestSecureCookiesBehindTLS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{SecureCookies: true})
	e.user("ada@example.com", store.RoleOrgAdmin)
	res := e.browser().get("/login")
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if !c.Secure || !c.HttpOnly {
			t.Errorf("cookie %s not Secure and HttpOnly behind TLS", c.Name)
		}
	}
}

func TestFormsNeedTheirCSRFToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.user("ada@example.com", store.RoleOrgAdmin)
	b := e.browser()
	b.login("ada@example.com", testPassword)
	for _, path := range []string{"/login", "/logout", "/destinations", "/webhooks/org", "/replay", "/tokens", "/users", "/keys/rotate"} {
		p := b.post("/", path, url.Values{"csrf": {"forged-token-forged-token-forged-token-xxx"}, "name": {"x"}, "email": {"x@example.com"}})
		if p.status != http.StatusForbidden {
			t.Errorf("POST %s with a forged token answered %d", path, p.status)
		}
	}
	ts, _ := e.st.ListTokens(context.Background(), e.org.ID)
	us, _ := e.st.ListUsers(context.Background(), e.org.ID)
	if len(ts) != 0 || len(us) != 1 {
		t.Errorf("a forged form changed something: %d tokens, %d users", len(ts), len(us))
	}
	// A cross-site post is refused before any handler (Sec-Fetch-Site).
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/login", strings.NewReader("email=a&password=b"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site post answered %d", res.StatusCode)
	}
}
