package console

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/webform"
)

var linkPattern = regexp.MustCompile(`https?://\S+/set-password\?token=([A-Za-z0-9_-]+)`)

// invite creates a user without a password through InviteUser and returns
// the token of the one link queued for them.
func (e *env) invite(email string, role store.Role) (store.User, string) {
	e.t.Helper()
	ctx := context.Background()
	u, err := InviteUser(ctx, e.st, UserSpec{OrgID: e.org.ID, Email: email, Role: role}, e.org.Name, "https://audit.example.com/", e.clk.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return u, e.mailedToken(email)
}

// mailedToken claims the outbox's mails and returns the token of the one
// link sent to email.
func (e *env) mailedToken(email string) string {
	e.t.Helper()
	ms, err := e.st.ClaimMail(context.Background(), "test", e.clk.Now().Add(time.Second), time.Minute, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].To != email {
		e.t.Fatalf("outbox holds %+v, want one mail to %s", ms, email)
	}
	m := linkPattern.FindStringSubmatch(ms[0].Text)
	if m == nil || !strings.HasPrefix(m[0], "https://audit.example.com/set-password?token=") {
		e.t.Fatalf("mail text has no set-password link on the console URL: %q", ms[0].Text)
	}
	if err := e.st.DeleteMail(context.Background(), "test", ms[0].ID); err != nil {
		e.t.Fatal(err)
	}
	return m[1]
}

func TestSetPasswordLinkSetsThePasswordOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	u, token := e.invite("new@example.com", store.RoleReadOnly)
	b := e.browser()
	if p := b.login("new@example.com", ""); p.status != http.StatusBadRequest {
		t.Fatalf("log-in with no password: %d", p.status)
	}
	if p := b.login("new@example.com", "anything at all"); p.status != http.StatusUnauthorized {
		t.Fatalf("an invited user logs in before setting a password: %d", p.status)
	}
	form := "/set-password?token=" + token
	p := b.get(form)
	if p.status != http.StatusOK || !strings.Contains(p.body, "new@example.com") || !strings.Contains(p.body, `<label for="password">`) {
		t.Fatalf("GET set-password: %d %s", p.status, p.body)
	}
	for _, c := range []struct{ name, pw, confirm, field string }{
		{"short", "short", "short", "password-error"},
		{"mismatch", "long enough password", "another long password", "confirm-error"},
	} {
		p := b.post(form, "/set-password", url.Values{"token": {token}, "password": {c.pw}, "confirm": {c.confirm}})
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="`+c.field+`"`) {
			t.Errorf("%s: %d, want 400 with %s beside the field: %s", c.name, p.status, c.field, p.body)
		}
	}
	if p := b.post(form, "/set-password", url.Values{"password": {"long enough password"}, "confirm": {"long enough password"},
		"token": {token}, "csrf": {"forged"}}); p.status != http.StatusForbidden {
		t.Fatalf("a forged CSRF token: %d", p.status)
	}
	p = b.post(form, "/set-password", url.Values{"token": {token}, "password": {"long enough password"}, "confirm": {"long enough password"}})
	if p.status != http.StatusSeeOther || p.location != "/login?m=password-set" {
		t.Fatalf("set password: %d %q %s", p.status, p.location, p.body)
	}
	if p := b.get(p.location); !strings.Contains(p.body, "Your password is set") {
		t.Fatalf("log-in page after setting: %s", p.body)
	}
	if p := b.login("new@example.com", "long enough password"); p.status != http.StatusSeeOther || p.location != "/" {
		t.Fatalf("log in with the new password: %d %q", p.status, p.location)
	}
	// The change is in the user's org log, naming the user, and the
	// token is nowhere in it.
	var authz, access bool
	for _, se := range e.entries(e.org.ID) {
		en := se.Entry
		if en.PrincipalID != u.ID {
			continue
		}
		if strings.Contains(en.Request+en.Query, token) {
			t.Fatalf("the token is in the log: %+v", en)
		}
		authz = authz || (en.Kind == audit.KindAuthorization && en.Name == audit.AuthzNamePrefix+resUsers && en.Action == audit.ActionEdit && en.Granted)
		access = access || (en.Kind == audit.KindAccess && en.Request == "/set-password" && en.Status == http.StatusSeeOther)
	}
	if !authz || !access {
		t.Fatalf("no authz (%v) or access (%v) entry of the password change", authz, access)
	}

	// Used once: the same link now gets the page every bad link gets.
	reused := b.get(form)
	if reused.status != http.StatusNotFound || !strings.Contains(reused.body, "cannot be used") {
		t.Fatalf("reused link: %d %s", reused.status, reused.body)
	}
	if p := b.post("/login", "/set-password", url.Values{"token": {token}, "password": {"another long password"}, "confirm": {"another long password"}}); p.status != http.StatusNotFound {
		t.Fatalf("reused link posted: %d", p.status)
	}
	if p := b.login("new@example.com", "long enough password"); p.status != http.StatusSeeOther {
		t.Fatalf("the password changed through a used link: %d", p.status)
	}
	unknown := b.get("/set-password?token=nope")
	if unknown.status != reused.status || bodyError(unknown.body) != bodyError(reused.body) {
		t.Fatalf("an unknown token is answered differently from a used one: %d %q vs %d %q",
			unknown.status, bodyError(unknown.body), reused.status, bodyError(reused.body))
	}
}

func TestSetPasswordLinkExpiresAfterADay(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	_, token := e.invite("late@example.com", store.RoleReadOnly)
	b := e.browser()
	form := "/set-password?token=" + token
	csrf := csrfField.FindStringSubmatch(b.get(form).body)
	e.clk.Advance(SetPasswordTTL)
	p := b.get(form)
	if p.status != http.StatusNotFound || !strings.Contains(p.body, "cannot be used") {
		t.Fatalf("expired link: %d %s", p.status, p.body)
	}
	p = b.post(form, "/set-password", url.Values{"token": {token}, "csrf": {csrf[1]}, "password": {"long enough password"}, "confirm": {"long enough password"}})
	if p.status != http.StatusNotFound {
		t.Fatalf("expired link posted: %d %s", p.status, p.body)
	}
	if p := b.login("late@example.com", "long enough password"); p.status != http.StatusUnauthorized {
		t.Fatalf("an expired link set the password: %d", p.status)
	}
}

func TestResetLinkReplacesEarlierOnes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	u, first := e.invite("again@example.com", store.RoleReadOnly)
	if err := SendSetPasswordLink(context.Background(), e.st, u, e.org.Name, "https://audit.example.com", e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	second := e.mailedToken("again@example.com")
	b := e.browser()
	if p := b.get("/set-password?token=" + first); p.status != http.StatusNotFound {
		t.Fatalf("the first link still works after a second was sent: %d", p.status)
	}
	if p := b.get("/set-password?token=" + second); p.status != http.StatusOK {
		t.Fatalf("the second link: %d", p.status)
	}
	for _, bad := range []string{"", "ftp://x", "https://", "https://a.example/?q=1", "not a url"} {
		if err := SendSetPasswordLink(context.Background(), e.st, u, e.org.Name, bad, e.clk.Now()); err == nil {
			t.Errorf("console URL %q accepted", bad)
		}
	}
}

var errorDiv = regexp.MustCompile(`(?s)<div class="msg error"[^>]*>(.*?)</div>`)

func bodyError(body string) string {
	if m := errorDiv.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

func TestSweepDeletesExpiredSetPasswordLinks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	_, old := e.invite("old@example.com", store.RoleReadOnly)
	e.clk.Advance(SetPasswordTTL - time.Hour)
	_, fresh := e.invite("fresh@example.com", store.RoleReadOnly)
	e.clk.Advance(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { SweepSessions(ctx, e.st, e.clk, time.Hour, slog.New(slog.DiscardHandler)); close(done) }()
	// The first sweep runs at once; wait until it has.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := e.st.GetUserToken(ctx, webform.SecretHash(old)); apperr.Is(err, apperr.NotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the expired link was not swept")
		}
	}
	cancel()
	<-done
	if _, err := e.st.GetUserToken(context.Background(), webform.SecretHash(fresh)); err != nil {
		t.Fatalf("a live link was swept: %v", err)
	}
}

// TestSetPasswordIsRecordedInEveryOrg: a password set through one org's
// link ends the person's sessions in their other orgs too, so each of
// those records it, naming its user of the person.
func TestSetPasswordIsRecordedInEveryOrg(t *testing.T) {
	e := newTwoOrgs(t)
	_, token := e.invite("pat@example.com", store.RoleReadOnly)
	bigPat := e.userOf(e.big.ID, "pat@example.com", store.RoleReadOnly)
	edits := func() int {
		n := 0
		for _, s := range e.entries(e.big.ID) {
			if s.Entry.Kind == audit.KindAuthorization && s.Entry.Action == audit.ActionEdit && s.Entry.PrincipalID == bigPat.ID {
				n++
			}
		}
		return n
	}
	before := edits()
	b := e.browser()
	form := "/set-password?token=" + token
	if p := b.post(form, "/set-password", url.Values{"token": {token}, "password": {"long enough password"},
		"confirm": {"long enough password"}}); p.status != http.StatusSeeOther {
		t.Fatalf("set password: %d", p.status)
	}
	if n := edits() - before; n != 1 {
		t.Errorf("bigcorp's log records %d edits of Pat for the password set through acme's link, want 1", n)
	}
}
