package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/tenancy"
)

// benchSession logs a user in and returns a request builder carrying the
// session cookie, for calling the handler directly (server time only).
func benchSession(b *testing.B, e *env) func(path string) *http.Request {
	b.Helper()
	e.user("ada@example.com", store.RoleOrgAdmin)
	l, err := e.h.authenticate(context.Background(), httpRequest("POST", "/login"), "ada@example.com", testPassword)
	if err != nil {
		b.Fatal(err)
	}
	return func(path string) *http.Request {
		r := httpRequest(http.MethodGet, path)
		r.AddCookie(&http.Cookie{Name: sessionCookie, Value: l.session})
		return r
	}
}

func httpRequest(method, path string) *http.Request {
	r, _ := http.NewRequest(method, path, nil)
	r.RemoteAddr = "127.0.0.1:1"
	return r
}

func serveOK(b *testing.B, e *env, r *http.Request) *recorder {
	rec := newRecorder()
	e.h.ServeHTTP(rec, r)
	if rec.status != http.StatusOK {
		b.Fatalf("%s answered %d: %.300s", r.URL, rec.status, rec.body.String())
	}
	return rec
}

// BenchmarkOverview renders the overview of an org with the org webhook
// and 0 or 1,000 portal webhooks, each with state and a failed range (goal:
// under 200 ms of server time at 1,000). Each render appends its audit
// entries durably (a commit with its fsync), as every API read does; the
// run with no portal webhooks shows that fixed part.
func BenchmarkOverview(b *testing.B) {
	for _, n := range []int{0, 1000} {
		b.Run(fmt.Sprintf("webhooks=%d", n+1), func(b *testing.B) { benchOverview(b, n) })
	}
}

func benchOverview(b *testing.B, portals int) {
	e := newEnv(b, Config{})
	ctx := context.Background()
	newID := func() string { id, _ := uuid.NewV7(); return id.String() }
	dest := store.Destination{ID: newID(), OrgID: e.org.ID, Name: "siem", Endpoint: "https://siem.example.com/", Authorization: "x",
		LogFormat: audit.FormatJSON, CreatedAt: epoch, UpdatedAt: epoch}
	if err := e.st.CreateDestination(ctx, dest); err != nil {
		b.Fatal(err)
	}
	streams := []store.StreamID{store.StreamID(e.org.ID)}
	if err := e.st.PutWebhook(ctx, store.Webhook{Stream: streams[0], OrgID: e.org.ID, DestinationID: dest.ID, Enabled: true, UpdatedAt: epoch}); err != nil {
		b.Fatal(err)
	}
	for i := range portals {
		id := newID()
		p := store.Portal{ID: id, OrgID: e.org.ID, Name: fmt.Sprintf("portal-%04d", i), DefaultDomain: id + ".localhost",
			DefaultAPIVisibility: "public", DefaultPageVisibility: "public", CreatedAt: epoch, UpdatedAt: epoch}
		if err := e.st.CreatePortal(ctx, p); err != nil {
			b.Fatal(err)
		}
		if err := e.st.PutWebhook(ctx, store.Webhook{Stream: store.StreamID(id), OrgID: e.org.ID, PortalID: id, DestinationID: dest.ID, Enabled: true, UpdatedAt: epoch}); err != nil {
			b.Fatal(err)
		}
		streams = append(streams, store.StreamID(id))
	}
	for i, s := range streams {
		if err := e.st.RecordAttempt(ctx, s, store.NoFence, store.Attempt{At: epoch.Add(-time.Duration(i) * time.Second), ResponseCode: 200 + i%2*300, OK: i%2 == 0}); err != nil {
			b.Fatal(err)
		}
		if err := e.st.AdvanceCursor(ctx, s, store.NoFence, 0, &store.SeqRange{From: 1, To: 5}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 600 { // ten deliveries a minute over the last hour
		if err := e.st.RecordAttempt(ctx, streams[0], store.NoFence, store.Attempt{At: epoch.Add(-time.Duration(i) * 6 * time.Second), ResponseCode: 200, OK: true}); err != nil {
			b.Fatal(err)
		}
	}
	req := benchSession(b, e)
	rec := serveOK(b, e, req("/"))
	if n := countRows(rec.body.String()); n != portals+1 {
		b.Fatalf("overview shows %d webhooks, want %d", n, portals+1)
	}
	for b.Loop() {
		serveOK(b, e, req("/"))
	}
}

func countRows(body string) int {
	n := 0
	for i := 0; i+len(`<tr data-stream=`) <= len(body); i++ {
		if body[i:i+len(`<tr data-stream=`)] == `<tr data-stream=` {
			n++
		}
	}
	return n
}

// BenchmarkLogPageDeep reads log pages at the start, the middle and the
// end of an org log of 1,000,000 entries, walked to by the pages' own
// next links (keyset paging: the page costs the same wherever it is).
func BenchmarkLogPageDeep(b *testing.B) {
	const total = 1_000_000
	e := newEnv(b, Config{})
	ctx := context.Background()
	stream := store.StreamID(e.org.ID)
	start := epoch.Add(-6 * 24 * time.Hour)
	batch := make([]store.NewEntry, 0, 10000)
	for i := range total {
		batch = append(batch, store.NewEntry{Stream: stream, Entry: audit.Entry{Kind: audit.KindAccess, Time: start.Add(time.Duration(i) * 400 * time.Millisecond),
			Product: audit.ProductKonnect, ClassID: audit.AccessClassGateway, Name: audit.AccessName, Src: "198.51.100.7", OrgID: e.org.ID,
			PrincipalID: "p", TraceID: fmt.Sprint(i), UserAgent: "bench", Act: "GET", Request: "/v3/portals", Status: 200}})
		if len(batch) == cap(batch) {
			if _, err := e.st.Append(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	req := benchSession(b, e)
	// Walk the log by 1,000-entry pages to the cursors of the pages at
	// 0, 500,000 and 999,000 entries.
	u, _ := e.st.GetUserByEmail(ctx, e.org.ID, "ada@example.com")
	cursors := map[int]string{0: ""}
	path := "/v3/audit-logs?page%5Bsize%5D=1000&filter%5Bts%5D%5Bgte%5D=" + url.QueryEscape(start.Format(time.RFC3339))
	for seen := 0; seen < 999_000; seen += 1000 {
		var page pulledPage
		if err := e.h.call(httpRequest(http.MethodGet, "/"), u, http.MethodGet, path, nil, &page); err != nil {
			b.Fatal(err)
		}
		key, c := cursorOf(page.Meta.Page.Next)
		if key != "after" {
			b.Fatalf("no next page after %d entries", seen)
		}
		next, _ := url.Parse(*page.Meta.Page.Next)
		path = next.RequestURI()
		if seen+1000 == 500_000 || seen+1000 == 999_000 {
			cursors[seen+1000] = c
		}
	}
	from := url.QueryEscape(start.Format("2006-01-02T15:04:05"))
	for _, at := range []int{0, 500_000, 999_000} {
		b.Run(fmt.Sprintf("at=%d", at), func(b *testing.B) {
			p := "/log?from=" + from
			if c := cursors[at]; c != "" {
				p += "&after=" + url.QueryEscape(c)
			}
			rec := serveOK(b, e, req(p))
			if n := countEntries(rec.body.String()); n != logPageSize {
				b.Fatalf("page at %d shows %d entries", at, n)
			}
			for b.Loop() {
				serveOK(b, e, req(p))
			}
		})
	}
}

func countEntries(body string) int {
	n := 0
	const mark = `<tr class="entry"`
	for i := 0; i+len(mark) <= len(body); i++ {
		if body[i:i+len(mark)] == mark {
			n++
		}
	}
	return n
}

// BenchmarkLogIn times a log-in on an unknown address, a wrong password
// (of a person of one org, and of three) and a locked account: with the
// argon2id check equal (cheapest parameters here, so the store work
// shows), each costs two reads and one commit besides its audit entries
// (one commit for all of them), so timing does not tell them apart.
func BenchmarkLogIn(b *testing.B) {
	for _, c := range []struct{ name, email, password string }{
		{"unknown-address", "nobody@example.com", testPassword},
		{"wrong-password", "ada@example.com", "not the password"},
		{"wrong-password-three-orgs", "bob@example.com", "not the password"},
		{"locked", "locked@example.com", testPassword},
		{"success", "ada@example.com", testPassword},
	} {
		b.Run(c.name, func(b *testing.B) {
			e := newEnv(b, Config{RateLimit: store.RateLimit{Burst: -1},
				Lockout: store.LockoutPolicy{MaxFailures: 1 << 30, Window: time.Hour, Duration: time.Hour}})
			e.user("ada@example.com", store.RoleOrgAdmin)
			for _, name := range []string{"acme", "two", "three"} {
				o := e.org
				if name != o.Name {
					var err error
					if o, err = tenancy.New(e.st, e.clk).CreateOrg(context.Background(), name); err != nil {
						b.Fatal(err)
					}
				}
				e.userOf(o.ID, "bob@example.com", store.RoleReadOnly)
			}
			l := e.user("locked@example.com", store.RoleOrgAdmin)
			lock := store.LockoutPolicy{MaxFailures: 1, Window: time.Hour, Duration: time.Hour}
			if _, err := e.st.RecordIdentityLoginFailure(context.Background(), l.IdentityID, epoch, lock); err != nil {
				b.Fatal(err)
			}
			r := httpRequest(http.MethodPost, "/login")
			for b.Loop() {
				_, err := e.h.authenticate(context.Background(), r, c.email, c.password)
				if (err == nil) != (c.name == "success") {
					b.Fatalf("%s: %v", c.name, err)
				}
			}
		})
	}
}

// BenchmarkUserCreate times the console's "new user" on a new address and
// on one another org already has (the person's identity exists): the
// answer is the same, and so should the time be. Cheapest argon2id
// parameters, so the store work shows; the hash is computed in both.
func BenchmarkUserCreate(b *testing.B) {
	for _, existing := range []bool{false, true} {
		name := "new-address"
		if existing {
			name = "another-orgs-address"
		}
		b.Run(name, func(b *testing.B) {
			e := newEnv(b, Config{})
			other, err := tenancy.New(e.st, e.clk).CreateOrg(context.Background(), "other")
			if err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				i++
				email := fmt.Sprintf("u%d@example.com", i)
				if existing {
					b.StopTimer()
					e.userOf(other.ID, email, store.RoleReadOnly)
					b.StartTimer()
				}
				spec := UserSpec{OrgID: e.org.ID, Email: email, Role: store.RoleReadOnly, Password: testPassword}
				if err := e.h.createUser(context.Background(), spec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
