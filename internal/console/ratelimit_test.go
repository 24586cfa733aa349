package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/httpx"
	"github.com/sigtrail/sigtrail/internal/store"
)

// loginFrom posts the log-in form as the client behind the trusted proxy
// (the test's 127.0.0.1) that X-Forwarded-For names.
func (b *browser) loginFrom(client, email, password string) page {
	b.e.t.Helper()
	p := b.get("/login")
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		b.e.t.Fatalf("no CSRF token on /login (%d)", p.status)
	}
	form := url.Values{"csrf": {m[1]}, "email": {email}, "password": {password}}
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", client)
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return readPage(b.e.t, res)
}

// An IPv6 host picks any address of its /64 at will: the log-in rate
// limit counts a /64 as one client, as the Dev Portal's does, so changing
// address does not buy a fresh bucket.
func TestLogInRateLimitCountsAnIPv6ClientByItsSlash64(t *testing.T) {
	t.Parallel()
	proxies, err := httpx.ParseTrustedProxies("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, Config{TrustedProxies: proxies, RateLimit: store.RateLimit{Every: time.Hour, Burst: 2}})
	b := e.browser()
	for i, c := range []struct {
		client string
		status int
	}{
		{"2001:db8:1:2::1", http.StatusUnauthorized},
		{"2001:db8:1:2::2", http.StatusUnauthorized},
		{"2001:db8:1:2:ffff::3", http.StatusTooManyRequests}, // same /64: its bucket is empty
		{"2001:db8:1:3::1", http.StatusUnauthorized},         // another /64
		{"192.0.2.1", http.StatusUnauthorized},               // IPv4: by address
		{"192.0.2.2", http.StatusUnauthorized},
	} {
		if p := b.loginFrom(c.client, "nobody@example.com", testPassword); p.status != c.status {
			t.Errorf("attempt %d from %s answered %d, want %d", i, c.client, p.status, c.status)
		}
	}
}
