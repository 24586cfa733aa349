package console

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestChooseAndSwitchOrgInTheBrowser: in a real Chromium, a person of two
// orgs logs in with email and password by keyboard, chooses an org on a
// page listing both by name, sees its pages, and switches to the other
// org from the navigation without logging in again. Each page passes
// axe-core.
func TestChooseAndSwitchOrgInTheBrowser(t *testing.T) {
	e := newTwoOrgs(t)
	e.twoOrgPerson()
	c := newChrome(t)
	do, check, text := c.do, c.check, c.text

	do("log in by keyboard", chromedp.Navigate(e.srv.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "bob@bigcorp.com\t"+testPassword+"\r"),
		chromedp.WaitVisible(chromedp.CSS("#orgs")))
	if got := text("read the orgs", "#orgs"); !strings.Contains(got, "acme") || !strings.Contains(got, "bigcorp") {
		t.Fatalf("the chooser lists %q, want acme and bigcorp", got)
	}
	check("orgs-choose")
	do("choose bigcorp", chromedp.Click(chromedp.CSS(`button[aria-label="Enter bigcorp as read-only"]`)),
		chromedp.WaitVisible(chromedp.CSS("#webhooks")))
	if got := text("read who", ".who"); !strings.Contains(got, "read-only in bigcorp") {
		t.Fatalf("after choosing bigcorp the header says %q", got)
	}
	do("follow Switch org", chromedp.Click(chromedp.CSS(`nav a[href="/orgs"]`)), chromedp.WaitVisible(chromedp.CSS("#orgs")))
	check("orgs-switch")
	do("switch to acme", chromedp.Click(chromedp.CSS(`button[aria-label="Enter acme as org-admin"]`)),
		chromedp.WaitVisible(chromedp.CSS("#webhooks")))
	if got := text("read who", ".who"); !strings.Contains(got, "org-admin in acme") {
		t.Fatalf("after switching to acme the header says %q", got)
	}
	do("open acme's users", chromedp.Navigate(e.srv.URL+"/users"), chromedp.WaitVisible(chromedp.CSS("#users")))
	if got := text("read the users", "#users"); strings.Contains(got, "carol@bigcorp.com") || !strings.Contains(got, "bob@bigcorp.com") {
		t.Fatalf("acme's Users page lists %q", got)
	}
}
