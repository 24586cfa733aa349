package portal

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// These tests run two portal servers on two handles of one SQLite file, as
// two replicas on one database: what guards accounts must hold whichever
// replica answers.

// Wrong passwords sent alternately to two replicas all count: the fifth
// locks the account, and both replicas then answer LOCKED, as one server
// does (TestLockout).
func TestLockoutCountsAcrossReplicas(t *testing.T) {
	t.Parallel()
	a := newEnv(t)
	d := a.signUp("jane@example.com")
	b := a.replica()
	const path = "/api/v2/developer/authenticate"
	var want []audit.Entry
	for i := range 5 {
		e := []*testEnv{a, b}[i%2]
		r := e.login(e.client, "jane@example.com", "wrong password")
		if r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d %s", i+1, r.StatusCode, r.body)
		}
		want = append(want, a.wantEntry(r, path, audit.OutcomeInvalidPassword, d.ID))
		a.clk.Advance(time.Minute)
	}
	if got := a.developer("jane@example.com").LockedUntil; !got.Equal(a.clk.Now().Add(-time.Minute + 15*time.Minute)) {
		t.Errorf("locked until %v, want 15 minutes after the fifth failure", got)
	}
	for _, e := range []*testEnv{b, a} {
		r := e.login(e.client, "jane@example.com", testPassword)
		if r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("locked login: %d %s", r.StatusCode, r.body)
		}
		if got := r.problem(t)["detail"]; got != errInvalidCredentials.Message {
			t.Errorf("locked login answered %q", got)
		}
		want = append(want, a.wantEntry(r, path, audit.OutcomeLocked, d.ID))
	}
	a.clk.Advance(14 * time.Minute)
	r := b.login(b.client, "jane@example.com", testPassword)
	if r.StatusCode != http.StatusNoContent {
		t.Fatalf("login after the lock: %d %s", r.StatusCode, r.body)
	}
	want = append(want, a.wantEntry(r, path, audit.OutcomeSuccess, d.ID))
	a.assertEntries(want...)
	if got := a.developer("jane@example.com"); got.FailedLogins != 0 || !got.LockedUntil.IsZero() {
		t.Errorf("after success: %d failures, locked until %v", got.FailedLogins, got.LockedUntil)
	}
}

// Failures that reach both replicas at the same moment all count: none is
// lost to a read-modify-write.
func TestConcurrentFailuresOnTwoReplicasAllCount(t *testing.T) {
	t.Parallel()
	a := newEnv(t, func(c *Config, _ *store.Portal) {
		c.Lockout = Lockout{MaxFailures: 100, Window: time.Hour, Duration: time.Hour}
	})
	a.signUp("jane@example.com")
	b := a.replica()
	const each = 4
	done := make(chan int, 2*each)
	for _, e := range []*testEnv{a, b} {
		for range each {
			go func() { done <- e.login(e.client, "jane@example.com", "wrong password").StatusCode }()
		}
	}
	for range 2 * each {
		if code := <-done; code != http.StatusUnauthorized {
			t.Fatalf("attempt answered %d", code)
		}
	}
	if n := a.developer("jane@example.com").FailedLogins; n != 2*each {
		t.Errorf("%d failures counted, want %d", n, 2*each)
	}
}

// One client address has one bucket whichever replica it reaches: the
// burst is spent once, not once per replica.
func TestRateLimitHoldsAcrossReplicas(t *testing.T) {
	t.Parallel()
	a := newEnv(t, func(c *Config, _ *store.Portal) {
		c.RateLimit = RateLimit{Every: time.Minute, Burst: 3}
	})
	b := a.replica()
	body := map[string]string{"username": "nobody@example.com", "password": "x"}
	const path = "/api/v2/developer/authenticate"
	var got []int
	for _, e := range []*testEnv{a, b, a, b, a} {
		got = append(got, e.do(e.client, http.MethodPost, path, body, nil).StatusCode)
	}
	if want := []int{401, 401, 401, 429, 429}; !equalInts(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	a.clk.Advance(time.Minute) // one token back, for both
	got = got[:0]
	for _, e := range []*testEnv{b, a} {
		got = append(got, e.do(e.client, http.MethodPost, path, body, nil).StatusCode)
	}
	if want := []int{401, 429}; !equalInts(got, want) {
		t.Fatalf("a minute later: statuses %v, want %v", got, want)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A session opened on one replica works on the other, and a log-out on
// either ends it on both: sessions live in the store.
func TestSessionWorksOnAnotherReplica(t *testing.T) {
	t.Parallel()
	a := newEnv(t)
	a.signUp("jane@example.com")
	b := a.replica()
	a.loginOK()
	// Cookies are scoped by host, not port: b's client with a's jar sends
	// a's cookies to b.
	onB := b.newClient()
	onB.Jar = a.client.Jar
	if r := b.do(onB, http.MethodGet, "/api/v2/developer/me", nil, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("me on the other replica: %d %s", r.StatusCode, r.body)
	}
	// Kept past the log-out, which makes the jar forget it: a stolen copy
	// must stop working on every replica.
	u, err := url.Parse(a.base)
	if err != nil {
		t.Fatal(err)
	}
	var access string
	for _, c := range a.client.Jar.Cookies(u) {
		if c.Name == accessCookie {
			access = c.Value
		}
	}
	if access == "" {
		t.Fatal("no access cookie after the log-in")
	}
	noJar := a.newClient()
	noJar.Jar = nil
	withAccess := map[string]string{"Cookie": accessCookie + "=" + access}
	if r := a.do(noJar, http.MethodGet, "/api/v2/developer/me", nil, withAccess); r.StatusCode != http.StatusOK {
		t.Fatalf("me with the copied cookie: %d %s", r.StatusCode, r.body)
	}
	if r := b.do(onB, http.MethodPost, "/api/v2/developer/logout", nil, nil); r.StatusCode != http.StatusNoContent {
		t.Fatalf("logout on the other replica: %d %s", r.StatusCode, r.body)
	}
	if r := a.do(noJar, http.MethodGet, "/api/v2/developer/me", nil, withAccess); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("me with the session logged out elsewhere: %d %s", r.StatusCode, r.body)
	}
}
