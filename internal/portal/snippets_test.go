package portal

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/sigtrail/sigtrail/internal/store"
)

// TestPageSnippets: a page's snippet references show the published
// snippets the viewer may see, and nothing for the others.
func TestPageSnippets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	now := e.clk.Now()
	for _, sn := range []struct{ name, vis, status, body string }{
		{"keys", "public", "published", "---\ntitle: get-api-keys\n---\n**Public snippet** text"},
		{"members", "private", "published", "Members-only snippet"},
		{"draft", "public", "unpublished", "Draft snippet"},
		{"outer", "public", "published", "Outer snippet\n\n:snippet{ name=\"members\" }"},
	} {
		err := e.st.CreatePortalSnippet(ctx, store.PortalSnippet{ID: uuid.Must(uuid.NewV7()).String(), PortalID: e.portal.ID, Name: sn.name,
			Title: sn.name, Content: sn.body, Visibility: sn.vis, Status: sn.status, CreatedAt: now, UpdatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
	}
	page := store.PortalPage{ID: uuid.Must(uuid.NewV7()).String(), PortalID: e.portal.ID, Slug: "docs", Title: "Docs",
		Content: "# Docs\n\n::snippet\n---\nname: \"keys\"\n---\n::\n\n::snippet{name=\"members\"}\n\n:snippet{name=\"draft\"}\n\n" +
			":snippet{name=\"missing\"}\n\n::snippet{name=\"outer\"}\n::\n\nThe end.",
		Visibility: "public", Status: "published", CreatedAt: now, UpdatedAt: now}
	if err := e.st.CreatePortalPage(ctx, page); err != nil {
		t.Fatal(err)
	}
	e.signUp("dev@example.com")

	check := func(who string, c *http.Client, want, notWant []string) {
		t.Helper()
		r := e.do(c, http.MethodGet, "/docs", nil, nil)
		body := string(r.body)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", who, r.StatusCode)
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s's page lacks %q", who, w)
			}
		}
		for _, w := range notWant {
			if strings.Contains(body, w) {
				t.Errorf("%s's page holds %q", who, w)
			}
		}
	}
	always := []string{"<strong>Public snippet</strong> text", "<p>Outer snippet</p>", "<p>The end.</p>"}
	never := []string{"Draft snippet", "snippet{", "::", "get-api-keys", "missing"}
	check("a visitor", e.newClient(), always, append(never, "Members-only snippet"))

	dev := e.newClient()
	_, tok := e.page(dev, "/login")
	if r := e.form(dev, "/login", url.Values{"email": {"dev@example.com"}, "password": {testPassword}, "csrf": {tok}}, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("log in: %d", r.StatusCode)
	}
	check("a developer", dev, append(always, "<p>Members-only snippet</p>"), never)
	// Twice: on its own and through "outer".
	if n := strings.Count(string(e.do(dev, http.MethodGet, "/docs", nil, nil).body), "Members-only snippet"); n != 2 {
		t.Errorf("members snippet shown %d times, want 2", n)
	}
}
