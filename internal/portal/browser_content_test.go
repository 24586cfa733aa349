package portal

import (
	"github.com/sigtrail/sigtrail/internal/testenv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserContent drives a real Chromium through the portal's content:
// a visitor sees the public front page and menu, without the signed-in
// guide, and is sent to log in when opening it; after logging in the
// developer lands on the front page with the signed-in menu and page tree
// and follows them to the guide. The landing page's screenshot goes to
// the test's artifact directory.
func TestBrowserContent(t *testing.T) {
	ctx := testenv.Browser(t, 2*time.Minute, 1000, 800)
	e := newEnv(t)
	e.contentFixture()
	e.assetsFixture()
	e.signUp("jane@example.com")

	do, get := driver(t, ctx)
	id := func(s string) chromedp.ID { return chromedp.ID(s) }

	do("open the front page as a visitor", chromedp.Navigate(e.base+"/"), chromedp.WaitVisible(id("page-content")))
	if text := get("read the front page", chromedp.Text(id("page-content"))); !strings.Contains(text, "Welcome aboard") || strings.Contains(text, "alert") {
		t.Errorf("visitor's front page: %q", text)
	}
	menu := get("read the visitor's menu", chromedp.Text(id("menu")))
	tree := get("read the visitor's page tree", chromedp.Text(id("page-tree")))
	if !strings.Contains(menu, "About") || strings.Contains(menu, "Guides") || strings.Contains(tree, "Guides") || strings.Contains(tree, "Getting started") {
		t.Errorf("a visitor sees menu %q and tree %q", menu, tree)
	}
	// The logo loads under the pages' Content-Security-Policy (img-src 'self').
	do("wait for the logo", chromedp.Poll[chromedp.Void](`document.getElementById("logo").complete`))
	if w := get("read the logo's width", chromedp.Evaluate[string](`String(document.getElementById("logo").naturalWidth)`)); w != "24" {
		t.Errorf("logo naturalWidth %s, want 24", w)
	}
	if icon := get("read the icon link", chromedp.Evaluate[string](`document.querySelector('link[rel="icon"]').getAttribute("href")`)); !strings.HasPrefix(icon, "/assets/favicon?v=") {
		t.Errorf("icon link %q", icon)
	}
	scripted := get("look for script elements", chromedp.Evaluate[string](`String(document.querySelectorAll("script").length)`))
	if scripted != "0" {
		t.Errorf("%s script elements on the front page", scripted)
	}

	do("open the signed-in guide as a visitor", chromedp.Navigate(e.base+"/guides"), chromedp.WaitVisible(id("password")))
	if loc := get("read the location", chromedp.Location()); loc != e.base+"/login?m=signed-in-page" {
		t.Errorf("visitor opening /guides went to %s", loc)
	}
	if text := get("read the notice", chromedp.Text(id("notice"))); text != "Log in to see that page." {
		t.Errorf("notice %q", text)
	}

	do("log in",
		chromedp.SendKeys(id("email"), "jane@example.com"),
		chromedp.SendKeys(id("password"), testPassword),
		chromedp.Click(id("submit")),
		chromedp.WaitVisible(id("page-content")),
	)
	if loc := get("read the landing", chromedp.Location()); loc != e.base+"/" {
		t.Errorf("landed on %s", loc)
	}
	menu = get("read the developer's menu", chromedp.Text(id("menu")))
	tree = get("read the developer's page tree", chromedp.Text(id("page-tree")))
	if !strings.Contains(menu, "Guides") || !strings.Contains(menu, "Profile") || !strings.Contains(tree, "Getting started") {
		t.Errorf("a developer sees menu %q and tree %q", menu, tree)
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if len(shot) < 1000 {
		t.Fatalf("screenshot of %d bytes", len(shot))
	}
	if err := os.WriteFile(filepath.Join(t.ArtifactDir(), "content-landing.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}

	do("follow the menu to the guide", chromedp.Click(`#menu a[href="/guides"]`), chromedp.WaitVisible(`#page-content h1#guides`))
	do("follow the tree to its child", chromedp.Click(`#page-tree a[href="/guides/start"]`), chromedp.WaitVisible(`#page-content table`))
	if cur := get("read the current page", chromedp.Text(`#page-tree a[aria-current="page"]`)); cur != "Getting started" {
		t.Errorf("current page in the tree: %q", cur)
	}
}
