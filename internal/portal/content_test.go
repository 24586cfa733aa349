package portal

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sigtrail/sigtrail/internal/store"
)

// contentFixture gives the test portal Kong-style content: a public front
// page, a signed-in guide with a child, an unpublished draft, and menus
// with a signed-in item.
func (e *testEnv) contentFixture() {
	e.t.Helper()
	ctx := context.Background()
	now := e.clk.Now()
	add := func(parent, slug, title, vis, status, body string) string {
		p := store.PortalPage{ID: uuid.Must(uuid.NewV7()).String(), PortalID: e.portal.ID, ParentID: parent, Slug: slug, Title: title,
			Content: body, Visibility: vis, Status: status, CreatedAt: now, UpdatedAt: now}
		if err := e.st.CreatePortalPage(ctx, p); err != nil {
			e.t.Fatal(err)
		}
		return p.ID
	}
	add("", "home", "Home", "public", "published",
		"# Welcome aboard\n\nRead the [guides](/guides).\n\n<script>alert('x')</script>\n\n[click](javascript:alert(1))")
	guides := add("", "guides", "Guides", "private", "published", "# Guides\n\nSigned-in developers only.")
	add(guides, "start", "Getting started", "private", "published", "# Getting started\n\n| step | do |\n|---|---|\n| 1 | log in |")
	add("", "draft", "Draft", "public", "unpublished", "# Not yet")
	add("", "about", "About", "public", "published", "# About us")
	primary := "#0a7d33"
	cu := store.PortalCustomization{
		Theme: &store.Theme{Colors: &store.ThemeColors{Primary: &primary}},
		Menu: &store.Menus{
			Main: []store.MenuItem{
				{Path: "/about", Title: "About", Visibility: "public"},
				{Path: "/guides", Title: "Guides", Visibility: "private"},
			},
			FooterSections: []store.FooterMenuSection{{Title: "More", Items: []store.MenuItem{
				{Path: "https://status.example.com", Title: "Status", Visibility: "public", External: true},
				{Path: "/guides/start", Title: "Start", Visibility: "private"},
			}}},
		},
	}
	if err := e.st.PutPortalCustomization(ctx, e.portal.ID, cu); err != nil {
		e.t.Fatal(err)
	}
}

func TestContentPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.contentFixture()
	e.signUp("dev@example.com")
	anon := e.newClient()

	home := e.do(anon, http.MethodGet, "/", nil, nil)
	body := string(home.body)
	if home.StatusCode != http.StatusOK || !strings.Contains(body, `id="welcome-aboard">Welcome aboard</h1>`) {
		t.Fatalf("front page %d: %s", home.StatusCode, body)
	}
	for _, bad := range []string{"<script>alert", "javascript:", ">Guides</a>", ">Start</a>", "Draft"} {
		if strings.Contains(body, bad) {
			t.Errorf("a visitor's front page holds %q", bad)
		}
	}
	for _, good := range []string{`<a href="/about">About</a>`, `href="https://status.example.com" target="_blank" rel="noopener noreferrer">Status</a>`,
		`href="/home" aria-current="page"`, `<a href="/login">Log in</a>`} {
		if !strings.Contains(body, good) {
			t.Errorf("a visitor's front page lacks %q", good)
		}
	}
	for path, want := range map[string]int{"/about": 200, "/home": 200, "/draft": 404, "/nothing": 404, "/guides": 303, "/guides/start": 303} {
		r := e.do(anon, http.MethodGet, path, nil, nil)
		if r.StatusCode != want {
			t.Errorf("visitor GET %s: %d, want %d", path, r.StatusCode, want)
		}
		if want == 303 && r.Header.Get("Location") != "/login?m=signed-in-page" {
			t.Errorf("visitor GET %s went to %q", path, r.Header.Get("Location"))
		}
	}
	if r := e.do(anon, http.MethodPost, "/about", nil, nil); r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusForbidden {
		t.Errorf("POST to a page: %d", r.StatusCode)
	}
	if css := e.do(anon, http.MethodGet, "/assets/theme.css", nil, nil); !strings.Contains(string(css.body), "--accent:#0a7d33") {
		t.Errorf("theme.css: %s", css.body)
	}

	// The log-in form lands a developer on the front page, with the
	// signed-in menu, and the signed-in pages open.
	dev := e.newClient()
	_, tok := e.page(dev, "/login")
	r := e.form(dev, "/login", url.Values{"email": {"dev@example.com"}, "password": {testPassword}, "csrf": {tok}}, nil)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("log in: %d to %q: %s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	front := string(e.do(dev, http.MethodGet, "/", nil, nil).body)
	for _, good := range []string{`<a href="/guides">Guides</a>`, `<a href="/profile">Profile</a>`, `<a href="/guides/start">Getting started</a>`, `>Start</a>`} {
		if !strings.Contains(front, good) {
			t.Errorf("a developer's front page lacks %q", good)
		}
	}
	start := e.do(dev, http.MethodGet, "/guides/start", nil, nil)
	if start.StatusCode != http.StatusOK || !strings.Contains(string(start.body), "<td>log in</td>") ||
		!strings.Contains(string(start.body), `href="/guides/start" aria-current="page"`) {
		t.Fatalf("signed-in page %d: %s", start.StatusCode, start.body)
	}
	if p := e.do(dev, http.MethodGet, "/profile", nil, nil); !strings.Contains(string(p.body), `<a href="/guides">Guides</a>`) {
		t.Errorf("profile lacks the menu")
	}

	// An expired session is a visitor again, and its cookie is cleared.
	e.clk.Advance(2 * time.Hour)
	if r := e.do(dev, http.MethodGet, "/guides", nil, nil); r.StatusCode != http.StatusSeeOther {
		t.Errorf("expired session GET /guides: %d", r.StatusCode)
	}
}

func TestContentLandingWithoutPagesIsTheProfile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.signUp("dev@example.com")
	dev := e.newClient()
	_, tok := e.page(dev, "/login")
	r := e.form(dev, "/login", url.Values{"email": {"dev@example.com"}, "password": {testPassword}, "csrf": {tok}}, nil)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/profile" {
		t.Fatalf("log in: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
}
