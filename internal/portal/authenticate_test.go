package portal

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/httpx"
	"github.com/sigtrail/sigtrail/internal/store"
)

// Every outcome of an authentication attempt, read back from the portal's
// stream exactly.
func TestAuthenticationOutcomesAreAudited(t *testing.T) {
	t.Parallel()
	const authPath = "/api/v2/developer/authenticate"
	setStatus := func(status string) func(*testEnv, *store.Developer) {
		return func(e *testEnv, d *store.Developer) {
			d.Status = status
			if err := e.st.UpdateDeveloper(context.Background(), *d); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name     string
		prepare  func(*testEnv, *store.Developer)
		attempt  func(*testEnv) response
		status   int
		detail   string
		path     string
		outcome  audit.Outcome
		severity int
		nobody   bool // the entry names no principal
	}{
		{name: "success", attempt: func(e *testEnv) response { return e.login(e.client, "jane@example.com", testPassword) },
			status: 204, path: authPath, outcome: audit.OutcomeSuccess, severity: 0},
		{name: "email in another case", attempt: func(e *testEnv) response { return e.login(e.client, "Jane@Example.com", testPassword) },
			status: 204, path: authPath, outcome: audit.OutcomeSuccess, severity: 0},
		{name: "unknown email", attempt: func(e *testEnv) response { return e.login(e.client, "nobody@example.com", testPassword) },
			status: 401, detail: "You have entered an invalid email or password.", path: authPath, outcome: audit.OutcomeNotFound, severity: 1, nobody: true},
		{name: "wrong password", attempt: func(e *testEnv) response { return e.login(e.client, "jane@example.com", testPassword+"!") },
			status: 401, detail: "You have entered an invalid email or password.", path: authPath, outcome: audit.OutcomeInvalidPassword, severity: 1},
		{name: "revoked", prepare: setStatus(store.DeveloperRevoked),
			attempt: func(e *testEnv) response { return e.login(e.client, "jane@example.com", testPassword) },
			status:  401, detail: "Your account has been disabled.", path: authPath, outcome: audit.OutcomeDisabled, severity: 6},
		{name: "rejected", prepare: setStatus(store.DeveloperRejected),
			attempt: func(e *testEnv) response { return e.login(e.client, "jane@example.com", testPassword) },
			status:  401, detail: "Your account has been disabled.", path: authPath, outcome: audit.OutcomeDisabled, severity: 6},
		{name: "pending approval", prepare: setStatus(store.DeveloperPending),
			attempt: func(e *testEnv) response { return e.login(e.client, "jane@example.com", testPassword) },
			status:  401, detail: "Your account is pending approval for access.", path: authPath, outcome: audit.OutcomeDisabled, severity: 6},
		{name: "locked", prepare: func(e *testEnv, d *store.Developer) {
			d.LockedUntil = e.clk.Now().Add(time.Minute)
			if err := e.st.UpdateDeveloper(context.Background(), *d); err != nil {
				t.Fatal(err)
			}
		}, attempt: func(e *testEnv) response { return e.login(e.client, "jane@example.com", testPassword) },
			status: 401, detail: "You have entered an invalid email or password.", path: authPath, outcome: audit.OutcomeLocked, severity: 6},
		{name: "expired session at me", prepare: func(e *testEnv, _ *store.Developer) {
			e.loginOK()
			e.clk.Advance(time.Hour)
		}, attempt: func(e *testEnv) response { return e.do(e.client, http.MethodGet, "/api/v2/developer/me", nil, nil) },
			status: 401, detail: "Your session has expired", path: "/api/v2/developer/me", outcome: audit.OutcomeTokenExpired, severity: 1},
		{name: "expired refresh token", prepare: func(e *testEnv, _ *store.Developer) {
			e.loginOK()
			e.clk.Advance(14 * 24 * time.Hour)
		}, attempt: func(e *testEnv) response { return e.post("/api/v2/developer/refresh", nil) },
			status: 401, detail: "Your session has expired", path: "/api/v2/developer/refresh", outcome: audit.OutcomeTokenExpired, severity: 1},
		{name: "refresh of a revoked developer", prepare: func(e *testEnv, d *store.Developer) {
			e.loginOK()
			setStatus(store.DeveloperRevoked)(e, d)
		}, attempt: func(e *testEnv) response { return e.post("/api/v2/developer/refresh", nil) },
			status: 401, detail: "Your account has been disabled.", path: "/api/v2/developer/refresh", outcome: audit.OutcomeDisabled, severity: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			d := e.signUp("jane@example.com")
			if tt.prepare != nil {
				tt.prepare(e, &d)
			}
			before := len(e.entries())
			r := tt.attempt(e)
			if r.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", r.StatusCode, tt.status, r.body)
			}
			if tt.detail != "" {
				if got := r.problem(t)["detail"]; got != tt.detail {
					t.Errorf("detail %q, want %q", got, tt.detail)
				}
			}
			principal := d.ID
			if tt.nobody {
				principal = ""
			}
			got := e.entries()[before:]
			want := e.wantEntry(r, tt.path, tt.outcome, principal)
			if len(got) != 1 {
				t.Fatalf("attempt wrote %d entries, want 1: %+v", len(got), got)
			}
			if !got[0].Time.Equal(want.Time) {
				t.Errorf("time %v, want %v", got[0].Time, want.Time)
			}
			got[0].Time, want.Time = time.Time{}, time.Time{}
			if got[0] != want {
				t.Errorf("entry\n got %+v\nwant %+v", got[0], want)
			}
			if sev := got[0].Severity(); sev != tt.severity {
				t.Errorf("severity %d, want %d", sev, tt.severity)
			}
		})
	}
}

func (e *testEnv) loginOK() {
	e.t.Helper()
	if r := e.login(e.client, "jane@example.com", testPassword); r.StatusCode != http.StatusNoContent {
		e.t.Fatalf("login: %d %s", r.StatusCode, r.body)
	}
}

func TestLockout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.signUp("jane@example.com")
	var want []audit.Entry
	for i := 0; i < 5; i++ {
		r := e.login(e.client, "jane@example.com", "wrong password")
		want = append(want, e.wantEntry(r, "/api/v2/developer/authenticate", audit.OutcomeInvalidPassword, d.ID))
		e.clk.Advance(time.Minute)
	}
	if got := e.developer("jane@example.com").LockedUntil; !got.Equal(e.clk.Now().Add(-time.Minute + 15*time.Minute)) {
		t.Errorf("locked until %v", got)
	}
	// Locked: even the right password fails, and is logged as LOCKED.
	r := e.login(e.client, "jane@example.com", testPassword)
	want = append(want, e.wantEntry(r, "/api/v2/developer/authenticate", audit.OutcomeLocked, d.ID))
	if r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("locked login: %d", r.StatusCode)
	}
	e.clk.Advance(14 * time.Minute) // the lock ends 15 minutes after the fifth failure
	r = e.login(e.client, "jane@example.com", testPassword)
	want = append(want, e.wantEntry(r, "/api/v2/developer/authenticate", audit.OutcomeSuccess, d.ID))
	if r.StatusCode != http.StatusNoContent {
		t.Fatalf("login after the lock: %d %s", r.StatusCode, r.body)
	}
	e.assertEntries(want...)
	if got := e.developer("jane@example.com"); got.FailedLogins != 0 || !got.LockedUntil.IsZero() {
		t.Errorf("after success: %d failures, locked until %v", got.FailedLogins, got.LockedUntil)
	}
}

func TestFailuresOutsideTheWindowDoNotLock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.signUp("jane@example.com")
	for i := 0; i < 8; i++ {
		e.login(e.client, "jane@example.com", "wrong password")
		e.clk.Advance(4 * time.Minute) // 4 failures per 15-minute window at most
	}
	if r := e.login(e.client, "jane@example.com", testPassword); r.StatusCode != http.StatusNoContent {
		t.Fatalf("login: %d %s", r.StatusCode, r.body)
	}
}

func TestLockoutUnit(t *testing.T) {
	t.Parallel()
	l := DefaultLockout()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		gaps     []time.Duration // before each failure
		lockedAt time.Duration   // offset from t0 of the check
		locked   bool
	}{
		{"four failures", []time.Duration{0, 0, 0, 0}, 0, false},
		{"five failures", []time.Duration{0, 0, 0, 0, 0}, 0, true},
		{"lock lasts 15 minutes", []time.Duration{0, 0, 0, 0, 0}, 15*time.Minute - time.Millisecond, true},
		{"lock ends", []time.Duration{0, 0, 0, 0, 0}, 15 * time.Minute, false},
		{"window restarts", []time.Duration{0, 0, 0, 0, 15 * time.Minute}, 15 * time.Minute, false},
		{"five within the window", []time.Duration{0, 3 * time.Minute, 3 * time.Minute, 3 * time.Minute, 3*time.Minute - time.Second}, 12 * time.Minute, true},
	}
	for _, tt := range tests {
		var d store.Developer
		now := t0
		for _, g := range tt.gaps {
			now = now.Add(g)
			l.CountFailure(&d, now)
		}
		if got := l.Locked(d, t0.Add(tt.lockedAt)); got != tt.locked {
			t.Errorf("%s: locked %v, want %v (%+v)", tt.name, got, tt.locked, d)
		}
	}
}

func TestRateLimitPerClientAddress(t *testing.T) {
	t.Parallel()
	trusted, err := httpx.ParseTrustedProxies("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *Config, _ *store.Portal) {
		c.RateLimit = RateLimit{Every: time.Minute, Burst: 2}
		c.TrustedProxies = trusted
	})
	from := func(ip string) map[string]string { return map[string]string{"X-Forwarded-For": ip} }
	body := map[string]string{"username": "nobody@example.com", "password": "x"}
	const path = "/api/v2/developer/authenticate"
	var statuses []int
	var last response
	for i := 0; i < 3; i++ {
		last = e.do(e.client, http.MethodPost, path, body, from("203.0.113.7"))
		statuses = append(statuses, last.StatusCode)
	}
	if statuses[0] != 401 || statuses[1] != 401 || statuses[2] != 429 {
		t.Fatalf("statuses %v, want 401 401 429", statuses)
	}
	if ra, _ := strconv.Atoi(last.Header.Get("Retry-After")); ra < 1 || ra > 60 {
		t.Errorf("Retry-After %q", last.Header.Get("Retry-After"))
	}
	if p := last.problem(t); p["status"] != float64(429) {
		t.Errorf("problem %v", p)
	}
	// Another client address has its own bucket; registration has its own.
	if r := e.do(e.client, http.MethodPost, path, body, from("198.51.100.1")); r.StatusCode != 401 {
		t.Errorf("other address: %d", r.StatusCode)
	}
	if r := e.do(e.client, http.MethodPost, "/api/v2/developer", map[string]string{"email": "a@example.com", "full_name": "A"}, from("203.0.113.7")); r.StatusCode != 201 {
		t.Errorf("register from the limited address: %d", r.StatusCode)
	}
	e.nextMail()
	e.clk.Advance(time.Minute)
	if r := e.do(e.client, http.MethodPost, path, body, from("203.0.113.7")); r.StatusCode != 401 {
		t.Errorf("after a minute: %d", r.StatusCode)
	}
	// The audit log names the forwarded address; the refused attempt is not
	// an authentication and is not logged.
	var srcs []string
	for _, en := range e.entries() {
		srcs = append(srcs, en.Src)
	}
	if got := strings.Join(srcs, ","); got != "203.0.113.7,203.0.113.7,198.51.100.1,203.0.113.7" {
		t.Errorf("sources %s", got)
	}
}

// An IPv6 client picks any address of its /64 at will: the whole /64 is
// one bucket, and the audit log still names each address.
func TestRateLimitPerIPv6Slash64(t *testing.T) {
	t.Parallel()
	trusted, err := httpx.ParseTrustedProxies("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *Config, _ *store.Portal) {
		c.RateLimit = RateLimit{Every: time.Minute, Burst: 2}
		c.TrustedProxies = trusted
	})
	body := map[string]string{"username": "nobody@example.com", "password": "x"}
	const path = "/api/v2/developer/authenticate"
	var statuses []int
	for _, ip := range []string{"2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3", "2001:db8:1:3::1"} {
		statuses = append(statuses, e.do(e.client, http.MethodPost, path, body, map[string]string{"X-Forwarded-For": ip}).StatusCode)
	}
	if fmt.Sprint(statuses) != "[401 401 429 401]" {
		t.Fatalf("statuses %v, want [401 401 429 401]: the third address shares the first two's /64", statuses)
	}
	var srcs []string
	for _, en := range e.entries() {
		srcs = append(srcs, en.Src)
	}
	if got := strings.Join(srcs, ","); got != "2001:db8:1:2::1,2001:db8:1:2::2,2001:db8:1:3::1" {
		t.Errorf("sources %s", got)
	}
}

func TestForwardedForIgnoredFromUntrustedPeers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config, _ *store.Portal) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	})
	r := e.do(e.client, http.MethodPost, "/api/v2/developer/authenticate",
		map[string]string{"username": "nobody@example.com", "password": "x"}, map[string]string{"X-Forwarded-For": "203.0.113.7"})
	e.assertEntries(e.wantEntry(r, "/api/v2/developer/authenticate", audit.OutcomeNotFound, ""))
}

// TestAttemptOfAClientThatHangsUpIsStillCounted: a guesser who sends a
// password and closes the connection at once must still be counted
// towards the lockout and appear in the audit log.
func TestAttemptOfAClientThatHangsUpIsStillCounted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.signUp("jane@example.com")
	conn, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"username":"jane@example.com","password":"wrong password"}`
	req := "POST /api/v2/developer/authenticate HTTP/1.1\r\nHost: " + testDomain + "\r\nUser-Agent: " + testUserAgent +
		"\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	conn.Close() // before the password check (tens of milliseconds of argon2) is over

	// The attempt finishes on the server after the hang-up: wait for it.
	deadline := time.Now().Add(10 * time.Second)
	for len(e.entries()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	got := e.entries()
	if len(got) != 1 || got[0].Name != string(audit.OutcomeInvalidPassword) || got[0].PrincipalID != d.ID {
		t.Fatalf("audit stream after a hung-up attempt: %+v", got)
	}
	if n := e.developer("jane@example.com").FailedLogins; n != 1 {
		t.Errorf("failed logins %d, want 1", n)
	}
}

// TestLogInWithAUserNameIsRecorded: a username that is no email address
// can match no account, but trying it is still an attempt: the user gets
// the validation error, the log a NOT_FOUND, and the rate limit counts it.
func TestLogInWithAUserNameIsRecorded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.login(e.client, "admin", "hunter2hunter2")
	if r.StatusCode != http.StatusBadRequest {
		t.Fatalf("login as admin: %d %s", r.StatusCode, r.body)
	}
	e.assertEntries(e.wantEntry(r, "/api/v2/developer/authenticate", audit.OutcomeNotFound, ""))
	// Nothing to record when there is no username at all.
	if r := e.login(e.client, "  ", "hunter2hunter2"); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("blank username: %d", r.StatusCode)
	}
	if n := len(e.entries()); n != 1 {
		t.Errorf("%d entries after a blank username, want 1", n)
	}
}
