package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/httpx"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/webform"
)

// deviceEnv is a console behind a trusted proxy (the test's 127.0.0.1),
// so each attempt can come from the client its X-Forwarded-For names.
func deviceEnv(t *testing.T) *env {
	t.Helper()
	proxies, err := httpx.ParseTrustedProxies("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return newEnv(t, Config{TrustedProxies: proxies})
}

// deviceValue is the device cookie the browser holds, "" for none.
func (b *browser) deviceValue() string {
	b.e.t.Helper()
	u, _ := url.Parse(b.e.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == deviceCookie {
			return c.Value
		}
	}
	return ""
}

// withDevice is a new browser that holds only the given device cookie.
func (e *env) withDevice(value string) *browser {
	e.t.Helper()
	b := e.browser()
	u, _ := url.Parse(e.srv.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: deviceCookie, Value: value, Path: "/"}})
	return b
}

// lockOut sends the default policy's five wrong passwords for email from
// a stranger's client, and checks the account is locked.
func (e *env) lockOut(email string) {
	e.t.Helper()
	stranger := e.browser()
	for range 5 {
		if p := stranger.loginFrom("198.51.100.66", email, "guessed password"); p.status != http.StatusUnauthorized {
			e.t.Fatalf("stranger's guess answered %d", p.status)
		}
	}
	u, err := e.st.GetIdentityByEmail(context.Background(), email)
	if err != nil {
		e.t.Fatal(err)
	}
	if !e.h.cfg.Lockout.LockedIdentity(u, e.clk.Now()) {
		e.t.Fatalf("five wrong passwords did not lock %s: %+v", email, u)
	}
}

// lastOutcome is the outcome of the org log's last authentication entry.
func (e *env) lastOutcome() audit.Outcome {
	e.t.Helper()
	es := authEntries(e, e.org.ID)
	return es[len(es)-1].Outcome()
}

// A stranger who knows only an address locks the account with five wrong
// passwords from anywhere; the browser its owner logged in on before
// still logs in, while every other client stays refused by the lock.
func TestAStrangersLockDoesNotLockOutTheOwnersKnownDevice(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// client returns the browser that tries the right password
		// after the stranger locked the account.
		client  func(e *env, owner *browser) *browser
		want    int
		outcome audit.Outcome
	}{
		{"the owner's browser", func(_ *env, owner *browser) *browser { return owner }, http.StatusSeeOther, audit.OutcomeSuccess},
		{"a browser without a device cookie", func(e *env, _ *browser) *browser { return e.browser() }, http.StatusUnauthorized, audit.OutcomeLocked},
		{"another user's device cookie", func(e *env, _ *browser) *browser {
			mallory := e.browser()
			if p := mallory.loginFrom("198.51.100.66", "mallory@example.com", testPassword); p.status != http.StatusSeeOther {
				e.t.Fatalf("mallory's log-in answered %d", p.status)
			}
			return e.withDevice(mallory.deviceValue())
		}, http.StatusUnauthorized, audit.OutcomeLocked},
		{"a forged device cookie", func(e *env, _ *browser) *browser {
			return e.withDevice(webform.NewSecret())
		}, http.StatusUnauthorized, audit.OutcomeLocked},
		{"the owner's cookie copied before the owner's next log-in", func(e *env, owner *browser) *browser {
			copied := e.withDevice(owner.deviceValue())
			if p := owner.loginFrom("192.0.2.10", "ada@example.com", testPassword); p.status != http.StatusSeeOther {
				e.t.Fatalf("owner's second log-in answered %d", p.status)
			}
			return copied
		}, http.StatusUnauthorized, audit.OutcomeLocked},
		{"the owner's cookie once expired", func(e *env, owner *browser) *browser {
			e.clk.Advance(webform.DeviceTTL)
			e.lockOut("ada@example.com") // the first lock is long over
			return owner
		}, http.StatusUnauthorized, audit.OutcomeLocked},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := deviceEnv(t)
			e.user("ada@example.com", store.RoleOrgAdmin)
			e.user("mallory@example.com", store.RoleReadOnly)
			owner := e.browser()
			if p := owner.loginFrom("192.0.2.10", "ada@example.com", testPassword); p.status != http.StatusSeeOther {
				t.Fatalf("owner's log-in answered %d", p.status)
			}
			if owner.deviceValue() == "" {
				t.Fatal("a log-in gave the browser no device cookie")
			}
			e.lockOut("ada@example.com")
			b := c.client(e, owner)
			p := b.loginFrom("192.0.2.10", "ada@example.com", testPassword)
			if p.status != c.want {
				t.Fatalf("log-in with the right password answered %d, want %d", p.status, c.want)
			}
			if got := e.lastOutcome(); got != c.outcome {
				t.Errorf("recorded %s, want %s", got, c.outcome)
			}
			// The lock still holds against strangers.
			if p := e.browser().loginFrom("203.0.113.5", "ada@example.com", testPassword); p.status != http.StatusUnauthorized {
				t.Errorf("after it a stranger with the right password got %d", p.status)
			}
		})
	}
}

// A known device's attempts do not count towards the account's lock;
// they are limited on their own (LockoutPolicy.DeviceLimit), so a copied
// device cookie does not give a guesser more than the lock would.
func TestAKnownDeviceThatKeepsFailingIsRefusedOnItsOwn(t *testing.T) {
	t.Parallel()
	e := deviceEnv(t)
	e.user("ada@example.com", store.RoleOrgAdmin)
	owner := e.browser()
	if p := owner.loginFrom("192.0.2.10", "ada@example.com", testPassword); p.status != http.StatusSeeOther {
		t.Fatalf("log-in answered %d", p.status)
	}
	wrong := owner.loginFrom("192.0.2.10", "ada@example.com", "not the password")
	for range 3 {
		owner.loginFrom("192.0.2.10", "ada@example.com", "not the password")
	}
	// The fifth failure empties the device's bucket (the log-in that
	// gave the cookie took none) ...
	if p := owner.loginFrom("192.0.2.10", "ada@example.com", "not the password"); p.status != http.StatusUnauthorized {
		t.Fatalf("wrong password answered %d", p.status)
	}
	// ... and the device is refused, right password or not, with the
	// answer of any failure.
	refused := owner.loginFrom("192.0.2.10", "ada@example.com", testPassword)
	if refused.status != http.StatusUnauthorized || strip(refused.body) != strip(wrong.body) {
		t.Fatalf("the refused device answered %d: %s", refused.status, refused.body)
	}
	if got := e.lastOutcome(); got != audit.OutcomeLocked {
		t.Errorf("recorded %s, want LOCKED", got)
	}
	u, err := e.st.GetIdentityByEmail(context.Background(), "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if u.FailedLogins != 0 || !u.LockedUntil.IsZero() {
		t.Errorf("the device's failures counted towards the account: %+v", u)
	}
	// Other clients are not affected.
	if p := e.browser().loginFrom("192.0.2.11", "ada@example.com", testPassword); p.status != http.StatusSeeOther {
		t.Errorf("another browser answered %d", p.status)
	}
	// One attempt comes back every Duration/MaxFailures.
	e.clk.Advance(e.h.cfg.Lockout.DeviceLimit().Every)
	if p := owner.loginFrom("192.0.2.10", "ada@example.com", testPassword); p.status != http.StatusSeeOther {
		t.Errorf("after %s the device answered %d", e.h.cfg.Lockout.DeviceLimit().Every, p.status)
	}
	var outcomes []string
	for _, x := range authEntries(e, e.org.ID) {
		outcomes = append(outcomes, strings.TrimPrefix(x.Name, "AUTHENTICATION_OUTCOME_"))
	}
	want := "SUCCESS INVALID_PASSWORD INVALID_PASSWORD INVALID_PASSWORD INVALID_PASSWORD INVALID_PASSWORD LOCKED SUCCESS SUCCESS"
	if got := strings.Join(outcomes, " "); got != want {
		t.Errorf("every attempt is recorded:\n got %s\nwant %s", got, want)
	}
}

// A set-password link proves control of the address: the browser that
// uses it is a known device at once, so the lock a stranger sets again
// seconds after the link lifted it does not keep the user out. The new
// password ends the trust of the browsers the old one made known.
func TestSetPasswordLinkMakesItsBrowserKnown(t *testing.T) {
	t.Parallel()
	e := deviceEnv(t)
	u := e.user("ada@example.com", store.RoleOrgAdmin)
	old := e.browser()
	if p := old.loginFrom("192.0.2.10", "ada@example.com", testPassword); p.status != http.StatusSeeOther {
		t.Fatalf("log-in answered %d", p.status)
	}
	e.lockOut("ada@example.com")
	if err := SendSetPasswordLink(context.Background(), e.st, u, e.org.Name, "https://audit.example.com", e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	token := e.mailedToken("ada@example.com")
	b := e.browser()
	const pw = "a brand new long password"
	p := b.post("/set-password?token="+token, "/set-password", url.Values{"token": {token}, "password": {pw}, "confirm": {pw}})
	if p.status != http.StatusSeeOther || b.deviceValue() == "" {
		t.Fatalf("set-password answered %d, device cookie %q", p.status, b.deviceValue())
	}
	e.lockOut("ada@example.com")
	if p := b.loginFrom("192.0.2.10", "ada@example.com", pw); p.status != http.StatusSeeOther {
		t.Errorf("the link's browser answered %d", p.status)
	}
	if p := old.loginFrom("192.0.2.10", "ada@example.com", pw); p.status != http.StatusUnauthorized {
		t.Errorf("a browser known before the new password answered %d", p.status)
	}
}

func TestDeviceCookieAttributes(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		e := newEnv(t, Config{SecureCookies: secure})
		e.user("ada@example.com", store.RoleOrgAdmin)
		p := e.browser().login("ada@example.com", testPassword)
		var dev *http.Cookie
		for _, c := range (&http.Response{Header: p.header}).Cookies() {
			if c.Name == deviceCookie {
				dev = c
			}
		}
		if dev == nil || !dev.HttpOnly || dev.Secure != secure || dev.SameSite != http.SameSiteStrictMode || dev.Domain != "" ||
			dev.Path != "/" || time.Duration(dev.MaxAge)*time.Second != webform.DeviceTTL || len(dev.Value) != 43 {
			t.Errorf("secure=%v: device cookie %+v", secure, dev)
		}
	}
}

// Whoever holds a copy of another user's device cookie cannot end it by
// logging in to an account of their own with it.
func TestALogInDoesNotEndAnotherUsersDevice(t *testing.T) {
	t.Parallel()
	e := deviceEnv(t)
	e.user("ada@example.com", store.RoleOrgAdmin)
	e.user("mallory@example.com", store.RoleReadOnly)
	owner := e.browser()
	if p := owner.loginFrom("192.0.2.10", "ada@example.com", testPassword); p.status != http.StatusSeeOther {
		t.Fatalf("log-in answered %d", p.status)
	}
	mallory := e.withDevice(owner.deviceValue())
	if p := mallory.loginFrom("198.51.100.66", "mallory@example.com", testPassword); p.status != http.StatusSeeOther {
		t.Fatalf("mallory's log-in answered %d", p.status)
	}
	e.lockOut("ada@example.com")
	if p := owner.loginFrom("192.0.2.10", "ada@example.com", testPassword); p.status != http.StatusSeeOther {
		t.Errorf("ada's browser answered %d after mallory logged in with a copy of its cookie", p.status)
	}
}

// A client that keeps no cookies gets a new device token at each log-in:
// an account gets at most webform.DeviceIssueLimit of them, so the store
// holds a bounded number whatever it does; a browser that brings its own
// back trades it for a new one outside the limit.
func TestNewDevicesOfAnAccountAreLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: store.RateLimit{Burst: -1}})
	e.user("ada@example.com", store.RoleOrgAdmin)
	known := e.browser()
	if p := known.login("ada@example.com", testPassword); p.status != http.StatusSeeOther || known.deviceValue() == "" {
		t.Fatalf("log-in answered %d, device %q", p.status, known.deviceValue())
	}
	for i := 1; i < webform.DeviceIssueLimit.Burst; i++ {
		if b := e.browser(); b.login("ada@example.com", testPassword).status != http.StatusSeeOther || b.deviceValue() == "" {
			t.Fatalf("new browser %d got no device cookie", i+1)
		}
	}
	over := e.browser()
	if p := over.login("ada@example.com", testPassword); p.status != http.StatusSeeOther || over.deviceValue() != "" {
		t.Errorf("past the limit: log-in answered %d, device %q", p.status, over.deviceValue())
	}
	before := known.deviceValue()
	if p := known.login("ada@example.com", testPassword); p.status != http.StatusSeeOther || known.deviceValue() == "" || known.deviceValue() == before {
		t.Errorf("a known browser past the limit: log-in answered %d, device %q (was %q)", p.status, known.deviceValue(), before)
	}
	e.clk.Advance(webform.DeviceIssueLimit.Every)
	if p := over.login("ada@example.com", testPassword); p.status != http.StatusSeeOther || over.deviceValue() == "" {
		t.Errorf("a day later: log-in answered %d, device %q", p.status, over.deviceValue())
	}
}
