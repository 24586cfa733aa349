package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

func TestDestinationFormShowsErrorsBesideFieldsAndSavesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	u := e.user("ada@example.com", store.RoleOrgAdmin)
	b := e.browser()
	b.login("ada@example.com", testPassword)
	p := b.post("/destinations", "/destinations", url.Values{"name": {"siem"}, "endpoint": {"not a url"}, "log_format": {"cef"}, "ordering": {"best_effort"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="endpoint-error"`) || !strings.Contains(p.body, `aria-invalid="true" aria-describedby="endpoint-error"`) {
		t.Fatalf("bad destination answered %d: %s", p.status, p.body)
	}
	if ds, _, _ := e.st.ListDestinations(context.Background(), e.org.ID, store.NameFilter{}, store.Page{Size: 10}); len(ds) != 0 {
		t.Fatalf("a refused form saved %d destinations", len(ds))
	}
	p = b.post("/destinations", "/destinations", url.Values{"name": {"siem"}, "endpoint": {"http://127.0.0.1:9/x"}, "authorization": {"Bearer s3cret"},
		"log_format": {"json"}, "ordering": {"best_effort"}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/destinations/") {
		t.Fatalf("create answered %d to %q: %s", p.status, p.location, p.body)
	}
	edit := b.get(strings.Split(p.location, "?")[0])
	if edit.status != http.StatusOK || strings.Contains(edit.body, "s3cret") || !strings.Contains(edit.body, "siem") {
		t.Fatalf("destination page answered %d (the authorization must never be shown): %s", edit.status, edit.body)
	}
	// The page's create went through the API: authorised and audited as
	// the user.
	var sawCreate bool
	for _, x := range e.entries(e.org.ID) {
		if x.Entry.Kind == audit.KindAccess && x.Entry.Act == http.MethodPost && x.Entry.Request == "/v3/audit-log-destinations" && x.Entry.Status == http.StatusCreated {
			sawCreate = x.Entry.PrincipalID == u.ID
		}
	}
	if !sawCreate {
		t.Error("no access entry of the create naming the user")
	}
}

func TestReadOnlyUserSeesEverythingAndChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.user("ada@example.com", store.RoleOrgAdmin)
	e.user("reader@example.com", store.RoleReadOnly)
	admin := e.browser()
	admin.login("ada@example.com", testPassword)
	if p := admin.post("/destinations", "/destinations", url.Values{"name": {"siem"}, "endpoint": {"http://127.0.0.1:9/x"}, "authorization": {"Bearer x"},
		"log_format": {"cef"}, "ordering": {"best_effort"}}); p.status != http.StatusSeeOther {
		t.Fatalf("admin create answered %d", p.status)
	}

	b := e.browser()
	b.login("reader@example.com", testPassword)
	for _, path := range []string{"/", "/destinations", "/webhooks", "/log", "/replay", "/portals", "/keys", "/tokens"} {
		p := b.get(path)
		if p.status != http.StatusOK {
			t.Errorf("%s answered %d to a read-only user", path, p.status)
			continue
		}
		// The log-out form is the only form that posts.
		if n := strings.Count(p.body, `method="post"`); n != 1 {
			t.Errorf("%s shows %d posting forms to a read-only user, want only log-out", path, n)
		}
	}
	if p := b.get("/users"); p.status != http.StatusForbidden {
		t.Errorf("/users answered %d to a read-only user", p.status)
	}
	// The server refuses writes too, whatever the page showed.
	writes := []struct{ path string }{{"/destinations"}, {"/webhooks/org"}, {"/replay"}, {"/tokens"}, {"/users"}, {"/keys/rotate"}}
	for _, w := range writes {
		p := b.post("/", w.path, url.Values{"name": {"x"}, "endpoint": {"http://127.0.0.1:9/y"}, "log_format": {"cef"}, "ordering": {"best_effort"},
			"enabled": {"true"}, "start_at": {"2026-03-01T11:00"}, "end_at": {"2026-03-01T11:30"}, "role": {"org-admin"}, "expires": {"1"},
			"email": {"new@example.com"}, "password": {testPassword}, "confirm": {"yes"}})
		if p.status != http.StatusForbidden {
			t.Errorf("read-only POST %s answered %d", w.path, p.status)
		}
	}
	ctx := context.Background()
	ds, _, _ := e.st.ListDestinations(ctx, e.org.ID, store.NameFilter{}, store.Page{Size: 10})
	ts, _ := e.st.ListTokens(ctx, e.org.ID)
	us, _ := e.st.ListUsers(ctx, e.org.ID)
	keys, _ := e.st.ListSigningKeys(ctx)
	if len(ds) != 1 || len(ts) != 0 || len(us) != 2 || len(keys) != 1 {
		t.Errorf("read-only writes changed something: %d destinations, %d tokens, %d users, %d keys", len(ds), len(ts), len(us), len(keys))
	}
	if _, err := e.st.GetWebhook(ctx, store.StreamID(e.org.ID)); err == nil {
		t.Error("a read-only user configured the org webhook")
	}
}

func TestTokensUsersAndKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.user("ada@example.com", store.RoleOrgAdmin)
	b := e.browser()
	b.login("ada@example.com", testPassword)
	p := b.post("/tokens", "/tokens", url.Values{"name": {"ci"}, "role": {"read-only"}, "expires": {"30"}})
	if p.status != http.StatusCreated || !strings.Contains(p.body, `id="token-secret">stpat_`) {
		t.Fatalf("token create answered %d: %s", p.status, p.body)
	}
	if again := b.get("/tokens"); strings.Contains(again.body, "token-secret") {
		t.Error("the secret is shown twice")
	}
	ts, _ := e.st.ListTokens(context.Background(), e.org.ID)
	if len(ts) != 1 || ts[0].Name != "ci" {
		t.Fatalf("tokens %+v", ts)
	}
	if p := b.post("/tokens", "/tokens/"+ts[0].ID+"/revoke", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("revoke answered %d", p.status)
	}
	p = b.post("/users", "/users", url.Values{"email": {"bad"}, "role": {"producer"}, "password": {"short"}})
	for _, f := range []string{"email-error", "role-error", "password-error"} {
		if !strings.Contains(p.body, `id="`+f+`"`) {
			t.Errorf("bad user form shows no %s: %d", f, p.status)
		}
	}
	if p := b.post("/users", "/users", url.Values{"email": {"grace@example.com"}, "role": {"read-only"}, "password": {testPassword}}); p.status != http.StatusSeeOther {
		t.Fatalf("user create answered %d: %s", p.status, p.body)
	}
	if p := b.post("/keys", "/keys/rotate", url.Values{}); p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="confirm-error"`) {
		t.Fatalf("rotation without confirmation answered %d", p.status)
	}
	if p := b.post("/keys", "/keys/rotate", url.Values{"confirm": {"yes"}}); p.status != http.StatusSeeOther {
		t.Fatalf("rotation answered %d: %s", p.status, p.body)
	}
	if keys, _ := e.st.ListSigningKeys(context.Background()); len(keys) != 2 {
		t.Errorf("%d keys after a rotation", len(keys))
	}
	grace := e.browser()
	if p := grace.login("grace@example.com", testPassword); p.status != http.StatusSeeOther {
		t.Fatalf("the new user's log-in answered %d", p.status)
	}
}

func TestLogPageFiltersVerifiesAndExports(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.user("ada@example.com", store.RoleOrgAdmin)
	b := e.browser()
	b.login("ada@example.com", "wrong password")
	b.login("ada@example.com", testPassword)
	p := b.get("/log?type=authentication&outcome=success")
	if p.status != http.StatusOK || strings.Count(p.body, `class="entry"`) != 1 || !strings.Contains(p.body, `data-verified="true"`) || strings.Contains(p.body, `data-verified="false"`) {
		t.Fatalf("filtered log answered %d: %s", p.status, p.body)
	}
	nd := b.get("/log/export?type=authentication&format=ndjson")
	lines := strings.Split(strings.TrimSpace(nd.body), "\n")
	if nd.status != http.StatusOK || len(lines) != 2 || !strings.Contains(lines[0], `"outcome":"invalid_password"`) || !strings.Contains(lines[1], `"signature"`) {
		t.Fatalf("NDJSON export answered %d: %q", nd.status, nd.body)
	}
	csv := b.get("/log/export?type=authentication&outcome=success&format=csv")
	rows := strings.Split(strings.TrimSpace(csv.body), "\n")
	if csv.status != http.StatusOK || len(rows) != 2 || !strings.HasPrefix(rows[0], "ts,type,") || !strings.HasSuffix(rows[1], ",true") {
		t.Fatalf("CSV export answered %d: %q", csv.status, csv.body)
	}
	if p := b.get("/log?from=yesterday"); p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="from-error"`) {
		t.Fatalf("a bad time answered %d", p.status)
	}
}

// With a filter the pull API lacks, a page reads on through the log until
// it fills (up to logMaxScan API pages).
func TestLogPageReadsOnToFillAFilteredPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.user("ada@example.com", store.RoleOrgAdmin)
	b := e.browser()
	b.login("ada@example.com", testPassword)
	var filler []store.NewEntry
	for range 250 {
		filler = append(filler, store.NewEntry{Stream: store.StreamID(e.org.ID), Entry: audit.Entry{Kind: audit.KindAccess, Time: e.clk.Now(),
			Product: audit.ProductKonnect, ClassID: audit.AccessClassGateway, Name: audit.AccessName, OrgID: e.org.ID, Act: "GET", Request: "/x", Status: 200}})
	}
	if _, err := e.st.Append(context.Background(), filler); err != nil {
		t.Fatal(err)
	}
	b.login("ada@example.com", testPassword)
	p := b.get("/log?outcome=success")
	if n := strings.Count(p.body, `class="entry"`); p.status != http.StatusOK || n != 2 {
		t.Fatalf("filtered page answered %d with %d entries, want both log-ins across 3 pages of the log", p.status, n)
	}
}

func TestLogPageReadsAPortalsLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.user("ada@example.com", store.RoleOrgAdmin)
	ctx := context.Background()
	const pid = "0193d4a8-9b8e-7c4f-8a4e-1e2f3a4b5c6d"
	if err := e.st.CreatePortal(ctx, store.Portal{ID: pid, OrgID: e.org.ID, Name: "devs", DefaultDomain: "devs.localhost",
		DefaultAPIVisibility: "public", DefaultPageVisibility: "public", CreatedAt: epoch, UpdatedAt: epoch}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Append(ctx, []store.NewEntry{{Stream: store.StreamID(pid), Entry: audit.Entry{Kind: audit.KindAuthentication, Time: epoch,
		Product: audit.ProductDevPortal, ClassID: audit.AuthTypeBasic, Name: string(audit.OutcomeLocked), OrgID: e.org.ID, PortalID: pid,
		PrincipalID: "developer-1", Request: "/login"}}}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.login("ada@example.com", testPassword)
	p := b.get("/log?portal=" + pid)
	if p.status != http.StatusOK || strings.Count(p.body, `class="entry"`) != 1 || !strings.Contains(p.body, `data-outcome="locked"`) ||
		!strings.Contains(p.body, `data-verified="true"`) || !strings.Contains(p.body, `selected>portal devs`) {
		t.Fatalf("portal log answered %d: %s", p.status, p.body)
	}
	if p := b.get("/log?portal=0193d4a8-9b8e-7c4f-8a4e-000000000000"); p.status != http.StatusNotFound {
		t.Fatalf("an unknown portal's log answered %d", p.status)
	}
}

// On a server shared by several orgs the signing keys are everyone's: one
// org's admin may not rotate them from the console.
func TestKeyRotationNeedsTheOnlyOrg(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.user("ada@example.com", store.RoleOrgAdmin)
	if err := e.st.CreateOrg(context.Background(), store.Org{ID: uuid.Must(uuid.NewV7()).String(), Name: "other", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.login("ada@example.com", testPassword)
	p := b.post("/keys", "/keys/rotate", url.Values{"confirm": {"yes"}})
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "sigtrail keys rotate") {
		t.Fatalf("rotation on a shared server answered %d: %s", p.status, p.body)
	}
	if keys, _ := e.st.ListSigningKeys(context.Background()); len(keys) != 1 {
		t.Errorf("%d keys after a refused rotation, want 1", len(keys))
	}
}
