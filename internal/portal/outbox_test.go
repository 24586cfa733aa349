package portal

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	dto "github.com/prometheus/client_model/go"

	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/portal/smtpmail"
	"github.com/sigtrail/sigtrail/internal/smtptest"
	"github.com/sigtrail/sigtrail/internal/store"
)

// deadRelay is an address where nothing listens (yet).
func deadRelay(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// waitLog waits until the log holds n lines containing s.
func (e *testEnv) waitLog(s string, n int) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(e.logs.String(), s) < n {
		if time.Now().After(deadline) {
			e.t.Fatalf("the log never held %d× %q:\n%s", n, s, e.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// With the relay down, signing up answers alike for an address with an
// account and one without (today: 201 and 503), and both emails arrive
// once the relay is back.
func TestRegisterAnswersAlikeWhileMailIsDown(t *testing.T) {
	t.Parallel()
	relay := deadRelay(t)
	outClk := clock.NewFake(time.Now().UTC())
	e := newEnvOutbox(t, relay, outClk)
	now := e.clk.Now()
	if err := e.st.CreateDeveloper(t.Context(), store.Developer{ID: uuid.Must(uuid.NewV7()).String(), PortalID: e.portal.ID,
		OrgID: e.org.ID, Email: "jane@example.com", FullName: "Jane Doe", Status: store.DeveloperApproved,
		EmailVerified: true, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	known := e.post("/api/v2/developer", map[string]string{"email": "jane@example.com", "full_name": "Jane Doe"})
	fresh := e.post("/api/v2/developer", map[string]string{"email": "john@example.com", "full_name": "John Doe"})
	if known.StatusCode != fresh.StatusCode || string(known.body) != string(fresh.body) ||
		known.Header.Get("Content-Type") != fresh.Header.Get("Content-Type") {
		t.Fatalf("answers differ: existing %d %q, new %d %q", known.StatusCode, known.body, fresh.StatusCode, fresh.body)
	}
	if fresh.StatusCode != http.StatusCreated {
		t.Fatalf("register while mail is down: %d %s", fresh.StatusCode, fresh.body)
	}
	e.developer("john@example.com") // kept: its email is queued
	e.waitLog("send failed, will retry", 2)

	rx := smtptest.StartAt(t, relay) // the relay comes back
	got := map[string]string{}
	for deadline := time.Now().Add(20 * time.Second); len(got) < 2 && time.Now().Before(deadline); {
		outClk.Advance(time.Minute) // past the backoff: the sender looks again
		select {
		case m := <-rx.Messages:
			got[m.To] = m.Header.Get("Subject")
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !strings.HasPrefix(got["jane@example.com"], "Sign-up attempt") || !strings.HasPrefix(got["john@example.com"], "Verify your email") {
		t.Fatalf("delivered %v, want the notice to jane and the verification to john", got)
	}
	e.waitLog("mail outbox: sent", 2)
	if left, err := e.st.ClaimMail(t.Context(), "test", outClk.Now().Add(time.Hour), time.Minute, 10); err != nil || len(left) != 0 {
		t.Fatalf("sent mail left in the outbox: %v %v", left, err)
	}
}

// Two senders on two handles of one database (two replicas) deliver every
// queued mail exactly once.
func TestTwoOutboxesSendEachMailOnce(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "db")
	sa, sb := openStore(t, path), openStore(t, path)
	rx := smtptest.Start(t)
	relay, err := smtpmail.New(rx.URL(), "portal@acme.test", clock.Real{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := OutboxConfig{Poll: 5 * time.Millisecond}
	log := slog.New(slog.DiscardHandler)
	a, b := NewOutbox(cfg, sa, relay, clock.Real{}, log), NewOutbox(cfg, sb, relay, clock.Real{}, log)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, o := range []*Outbox{a, b} {
		wg.Go(func() { _ = o.Run(ctx) })
	}
	defer func() { cancel(); wg.Wait() }()

	const n = 40
	for i := range n {
		o := a
		if i%2 == 1 {
			o = b
		}
		if err := o.Send(t.Context(), fmt.Sprintf("dev%d@example.com", i), fmt.Sprintf("mail %d", i), "hello"); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int{}
	for len(seen) < n {
		m := rx.Next(t, 20*time.Second)
		seen[m.Header.Get("Subject")]++
	}
	// Anything sent twice would arrive soon after.
	select {
	case m := <-rx.Messages:
		seen[m.Header.Get("Subject")]++
	case <-time.After(300 * time.Millisecond):
	}
	for subject, c := range seen {
		if c != 1 {
			t.Errorf("%q delivered %d times", subject, c)
		}
	}
}

// A throttled log-in is counted in sigtrail_portal_rate_limited_total and
// logged with the portal and the client address, though it leaves no
// audit entry.
func TestRateLimitedAttemptsAreCountedAndLogged(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config, _ *store.Portal) { c.RateLimit = RateLimit{Every: time.Hour, Burst: 1} })
	if r := e.login(e.client, "nobody@example.com", "x"); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("first attempt: %d", r.StatusCode)
	}
	for range 3 {
		if r := e.login(e.client, "nobody@example.com", "x"); r.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("throttled attempt: %d", r.StatusCode)
		}
	}
	if got := counterValue(t, e, "sigtrail_portal_rate_limited_total", "action", rateAuth); got != 3 {
		t.Errorf("sigtrail_portal_rate_limited_total{action=auth} = %v, want 3", got)
	}
	logs := e.logs.String()
	if strings.Count(logs, "portal: attempt rate limited") != 3 || !strings.Contains(logs, `"portal_id":"`+e.portal.ID+`"`) ||
		!strings.Contains(logs, `"client":"127.0.0.1"`) {
		t.Errorf("throttled attempts not logged with portal and client:\n%s", logs)
	}
}

// counterValue reads one counter series from the env's registry.
func counterValue(t *testing.T, e *testEnv, name, label, value string) float64 {
	t.Helper()
	fams, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabel(m, label, value) {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

// Sign-ups aimed at one inbox while mail is down queue at most
// PerRecipient mails to it; the rest are dropped and logged, and every
// request is answered the same.
func TestOutboxCapsMailToOneAddress(t *testing.T) {
	t.Parallel()
	outClk := clock.NewFake(time.Now().UTC())
	e := newEnvOutbox(t, deadRelay(t), outClk)
	now := e.clk.Now()
	if err := e.st.CreateDeveloper(t.Context(), store.Developer{ID: uuid.Must(uuid.NewV7()).String(), PortalID: e.portal.ID,
		OrgID: e.org.ID, Email: "jane@example.com", FullName: "Jane Doe", Status: store.DeveloperApproved,
		EmailVerified: true, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	var first response
	for i := range 7 {
		r := e.post("/api/v2/developer", map[string]string{"email": "jane@example.com", "full_name": "Jane Doe"})
		if i == 0 {
			first = r
		}
		if r.StatusCode != http.StatusCreated || string(r.body) != string(first.body) {
			t.Fatalf("sign-up %d: %d %s, want the first's %d %s", i, r.StatusCode, r.body, first.StatusCode, first.body)
		}
	}
	e.waitLog("mail outbox full; mail dropped", 2)
	queued, err := e.st.ClaimMail(t.Context(), "test", outClk.Now().Add(time.Hour), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(queued) != 5 {
		t.Fatalf("%d mails queued to one address, want the limit of 5", len(queued))
	}
}
