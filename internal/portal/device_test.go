package portal

import (
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

const authPathDevice = "/api/v2/developer/authenticate"

// deviceEnv is a portal behind a trusted proxy (the test's 127.0.0.1), so
// each attempt comes from the client its X-Forwarded-For names, with
// cheap argon2id: the parameters' cost is not under test.
func deviceEnv(t *testing.T) *testEnv {
	t.Helper()
	trusted, err := httpx.ParseTrustedProxies("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return newEnv(t, func(c *Config, _ *store.Portal) {
		c.TrustedProxies = trusted
		c.Argon2 = Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	})
}

// loginFrom logs in through the API with c as the client X-Forwarded-For
// names.
func (e *testEnv) loginFrom(c *http.Client, client, email, password string) response {
	e.t.Helper()
	return e.do(c, http.MethodPost, authPathDevice, map[string]string{"username": email, "password": password},
		map[string]string{"X-Forwarded-For": client})
}

// deviceValue is the device cookie c holds, "" for none.
func (e *testEnv) deviceValue(c *http.Client) string {
	e.t.Helper()
	u, _ := url.Parse(e.base)
	for _, k := range c.Jar.Cookies(u) {
		if k.Name == deviceCookie {
			return k.Value
		}
	}
	return ""
}

// withDevice is a new client that holds only the given device cookie.
func (e *testEnv) withDevice(value string) *http.Client {
	e.t.Helper()
	c := e.newClient()
	u, _ := url.Parse(e.base)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: deviceCookie, Value: value, Path: "/"}})
	return c
}

// lockOut sends five wrong passwords for email from a stranger's client
// and checks they locked the account.
func (e *testEnv) lockOut(email string) {
	e.t.Helper()
	stranger := e.newClient()
	for range 5 {
		if r := e.loginFrom(stranger, "198.51.100.66", email, "guessed password"); r.StatusCode != http.StatusUnauthorized {
			e.t.Fatalf("stranger's guess answered %d", r.StatusCode)
		}
	}
	if d := e.developer(email); !DefaultLockout().Locked(d, e.clk.Now()) {
		e.t.Fatalf("five wrong passwords did not lock %s: %+v", email, d)
	}
}

func (e *testEnv) lastOutcome() audit.Outcome {
	e.t.Helper()
	es := e.entries()
	return es[len(es)-1].Outcome()
}

// A stranger who knows only an address locks the account with five wrong
// passwords from anywhere; the browser its developer logged in on before
// still logs in, while every other client stays refused by the lock.
func TestAStrangersLockDoesNotLockOutTheDevelopersKnownDevice(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		client  func(e *testEnv, owner *http.Client) *http.Client
		want    int
		outcome audit.Outcome
	}{
		{"the developer's browser", func(_ *testEnv, owner *http.Client) *http.Client { return owner }, http.StatusNoContent, audit.OutcomeSuccess},
		{"a browser without a device cookie", func(e *testEnv, _ *http.Client) *http.Client { return e.newClient() }, http.StatusUnauthorized, audit.OutcomeLocked},
		{"another developer's device cookie", func(e *testEnv, _ *http.Client) *http.Client {
			e.signUp("mallory@example.com")
			mallory := e.newClient()
			if r := e.loginFrom(mallory, "198.51.100.66", "mallory@example.com", testPassword); r.StatusCode != http.StatusNoContent {
				e.t.Fatalf("mallory's log-in answered %d", r.StatusCode)
			}
			return e.withDevice(e.deviceValue(mallory))
		}, http.StatusUnauthorized, audit.OutcomeLocked},
		{"a forged device cookie", func(e *testEnv, _ *http.Client) *http.Client { return e.withDevice(webform.NewSecret()) },
			http.StatusUnauthorized, audit.OutcomeLocked},
		{"the developer's cookie copied before the next log-in", func(e *testEnv, owner *http.Client) *http.Client {
			copied := e.withDevice(e.deviceValue(owner))
			if r := e.loginFrom(owner, "192.0.2.10", "jane@example.com", testPassword); r.StatusCode != http.StatusNoContent {
				e.t.Fatalf("second log-in answered %d", r.StatusCode)
			}
			return copied
		}, http.StatusUnauthorized, audit.OutcomeLocked},
		{"the developer's cookie once expired", func(e *testEnv, owner *http.Client) *http.Client {
			e.clk.Advance(webform.DeviceTTL)
			e.lockOut("jane@example.com")
			return owner
		}, http.StatusUnauthorized, audit.OutcomeLocked},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := deviceEnv(t)
			e.signUp("jane@example.com")
			owner := e.newClient()
			if r := e.loginFrom(owner, "192.0.2.10", "jane@example.com", testPassword); r.StatusCode != http.StatusNoContent {
				t.Fatalf("log-in answered %d", r.StatusCode)
			}
			if e.deviceValue(owner) == "" {
				t.Fatal("a log-in gave the browser no device cookie")
			}
			e.lockOut("jane@example.com")
			b := c.client(e, owner)
			r := e.loginFrom(b, "192.0.2.10", "jane@example.com", testPassword)
			if r.StatusCode != c.want {
				t.Fatalf("log-in with the right password answered %d, want %d: %s", r.StatusCode, c.want, r.body)
			}
			if got := e.lastOutcome(); got != c.outcome {
				t.Errorf("recorded %s, want %s", got, c.outcome)
			}
			if r := e.loginFrom(e.newClient(), "203.0.113.5", "jane@example.com", testPassword); r.StatusCode != http.StatusUnauthorized {
				t.Errorf("after it a stranger with the right password got %d", r.StatusCode)
			}
		})
	}
}

// A known device's attempts do not count towards the account's lock;
// they are limited on their own (Lockout.DeviceLimit).
func TestAKnownPortalDeviceThatKeepsFailingIsRefusedOnItsOwn(t *testing.T) {
	t.Parallel()
	e := deviceEnv(t)
	e.signUp("jane@example.com")
	owner := e.newClient()
	if r := e.loginFrom(owner, "192.0.2.10", "jane@example.com", testPassword); r.StatusCode != http.StatusNoContent {
		t.Fatalf("log-in answered %d", r.StatusCode)
	}
	wrong := e.loginFrom(owner, "192.0.2.10", "jane@example.com", "not the password")
	for range 4 { // five failures empty the device's bucket
		e.loginFrom(owner, "192.0.2.10", "jane@example.com", "not the password")
	}
	refused := e.loginFrom(owner, "192.0.2.10", "jane@example.com", testPassword)
	if refused.StatusCode != http.StatusUnauthorized || string(refused.body) == "" ||
		refused.problem(t)["detail"] != wrong.problem(t)["detail"] {
		t.Fatalf("the refused device answered %d: %s", refused.StatusCode, refused.body)
	}
	if got := e.lastOutcome(); got != audit.OutcomeLocked {
		t.Errorf("recorded %s, want LOCKED", got)
	}
	if d := e.developer("jane@example.com"); d.FailedLogins != 0 || !d.LockedUntil.IsZero() {
		t.Errorf("the device's failures counted towards the account: %+v", d)
	}
	if r := e.loginFrom(e.newClient(), "192.0.2.11", "jane@example.com", testPassword); r.StatusCode != http.StatusNoContent {
		t.Errorf("another browser answered %d", r.StatusCode)
	}
	every := DefaultLockout().DeviceLimit().Every
	e.clk.Advance(every)
	if r := e.loginFrom(owner, "192.0.2.10", "jane@example.com", testPassword); r.StatusCode != http.StatusNoContent {
		t.Errorf("after %s the device answered %d", every, r.StatusCode)
	}
	var outcomes []string
	for _, x := range e.entries() {
		outcomes = append(outcomes, strings.TrimPrefix(x.Name, "AUTHENTICATION_OUTCOME_"))
	}
	want := "SUCCESS INVALID_PASSWORD INVALID_PASSWORD INVALID_PASSWORD INVALID_PASSWORD INVALID_PASSWORD LOCKED SUCCESS SUCCESS"
	if got := strings.Join(outcomes, " "); got != want {
		t.Errorf("every attempt is recorded:\n got %s\nwant %s", got, want)
	}
}

// A reset link proves control of the address: the browser that uses it
// is a known device at once, and the browsers the old password made known
// are strangers again.
func TestResetLinkMakesItsBrowserKnown(t *testing.T) {
	t.Parallel()
	e := deviceEnv(t)
	e.signUp("jane@example.com")
	old := e.newClient()
	if r := e.loginFrom(old, "192.0.2.10", "jane@example.com", testPassword); r.StatusCode != http.StatusNoContent {
		t.Fatalf("log-in answered %d", r.StatusCode)
	}
	e.lockOut("jane@example.com")
	if r := e.post("/api/v2/developer/forgot-password", map[string]string{"email": "jane@example.com"}); r.StatusCode != http.StatusOK {
		t.Fatalf("forgot-password: %d %s", r.StatusCode, r.body)
	}
	_, token := mailLink(t, e.nextMail())
	b := e.newClient()
	const pw = "a brand new long password"
	if r := e.do(b, http.MethodPost, "/api/v2/developer/reset-password", map[string]string{"token": token, "password": pw}, nil); r.StatusCode != http.StatusNoContent || e.deviceValue(b) == "" {
		t.Fatalf("reset-password answered %d, device cookie %q", r.StatusCode, e.deviceValue(b))
	}
	e.lockOut("jane@example.com")
	if r := e.loginFrom(b, "192.0.2.10", "jane@example.com", pw); r.StatusCode != http.StatusNoContent {
		t.Errorf("the link's browser answered %d", r.StatusCode)
	}
	if r := e.loginFrom(old, "192.0.2.10", "jane@example.com", pw); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("a browser known before the new password answered %d", r.StatusCode)
	}
}

func TestPortalDeviceCookieAttributes(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		e := newEnv(t, func(c *Config, _ *store.Portal) { c.SecureCookies = secure })
		e.signUp("jane@example.com")
		r := e.login(e.newClient(), "jane@example.com", testPassword)
		var dev *http.Cookie
		for _, c := range r.Cookies() {
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

// Whoever holds a copy of another developer's device cookie cannot end it
// by logging in to an account of their own with it.
func TestALogInDoesNotEndAnotherDevelopersDevice(t *testing.T) {
	t.Parallel()
	e := deviceEnv(t)
	e.signUp("jane@example.com")
	e.signUp("mallory@example.com")
	owner := e.newClient()
	if r := e.loginFrom(owner, "192.0.2.10", "jane@example.com", testPassword); r.StatusCode != http.StatusNoContent {
		t.Fatalf("log-in answered %d", r.StatusCode)
	}
	mallory := e.withDevice(e.deviceValue(owner))
	if r := e.loginFrom(mallory, "198.51.100.66", "mallory@example.com", testPassword); r.StatusCode != http.StatusNoContent {
		t.Fatalf("mallory's log-in answered %d", r.StatusCode)
	}
	e.lockOut("jane@example.com")
	if r := e.loginFrom(owner, "192.0.2.10", "jane@example.com", testPassword); r.StatusCode != http.StatusNoContent {
		t.Errorf("jane's browser answered %d after mallory logged in with a copy of its cookie", r.StatusCode)
	}
}

// A client that keeps no cookies gets a new device token at each log-in:
// a developer gets at most webform.DeviceIssueLimit of them; a browser
// that brings its own back trades it for a new one outside the limit.
func TestNewDevicesOfADeveloperAreLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config, _ *store.Portal) {
		c.RateLimit = RateLimit{Burst: -1}
		c.Argon2 = Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	})
	e.signUp("jane@example.com") // its browser is the first new device
	known := e.newClient()
	if r := e.login(known, "jane@example.com", testPassword); r.StatusCode != http.StatusNoContent || e.deviceValue(known) == "" {
		t.Fatalf("log-in answered %d, device %q", r.StatusCode, e.deviceValue(known))
	}
	for i := 2; i < webform.DeviceIssueLimit.Burst; i++ {
		if c := e.newClient(); e.login(c, "jane@example.com", testPassword).StatusCode != http.StatusNoContent || e.deviceValue(c) == "" {
			t.Fatalf("new browser %d got no device cookie", i+1)
		}
	}
	over := e.newClient()
	if r := e.login(over, "jane@example.com", testPassword); r.StatusCode != http.StatusNoContent || e.deviceValue(over) != "" {
		t.Errorf("past the limit: log-in answered %d, device %q", r.StatusCode, e.deviceValue(over))
	}
	before := e.deviceValue(known)
	if r := e.login(known, "jane@example.com", testPassword); r.StatusCode != http.StatusNoContent || e.deviceValue(known) == before {
		t.Errorf("a known browser past the limit: log-in answered %d, device %q (was %q)", r.StatusCode, e.deviceValue(known), before)
	}
	e.clk.Advance(webform.DeviceIssueLimit.Every)
	if r := e.login(over, "jane@example.com", testPassword); r.StatusCode != http.StatusNoContent || e.deviceValue(over) == "" {
		t.Errorf("a day later: log-in answered %d, device %q", r.StatusCode, e.deviceValue(over))
	}
}
