package portal

import (
	"net/http"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestBrowserKnownDeviceLogsInPastAStrangersLock: a real Chromium keeps
// the portal's device cookie (HttpOnly, SameSite=Strict, persistent) and
// sends it with the log-in form, so after a stranger's five wrong
// passwords lock the account the developer logs in from it again, while
// the stranger, with the right password even, is refused.
func TestBrowserKnownDeviceLogsInPastAStrangersLock(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t)
	e.signUp("jane@example.com")
	id := func(s string) chromedp.ID { return chromedp.ID(s) }
	do, get := driver(t, ctx)
	login := func(step string) {
		t.Helper()
		do(step, chromedp.Navigate(e.base+"/login"), chromedp.WaitVisible(id("email")),
			chromedp.SendKeys(id("email"), "jane@example.com"),
			chromedp.SendKeys(id("password"), testPassword),
			chromedp.Click(id("submit")),
			chromedp.WaitVisible(chromedp.CSS("#profile, #error")))
		if location := get("read the location", chromedp.Location()); location != e.base+"/profile" {
			t.Fatalf("%s: the browser is at %s, not the profile", step, location)
		}
	}
	login("log in")
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{e.base + "/login"}})
	if err != nil {
		t.Fatal(err)
	}
	var dev *network.Cookie
	for _, c := range res.Cookies {
		if c.Name == deviceCookie {
			dev = c
		}
	}
	if dev == nil || !dev.HTTPOnly || dev.SameSite != network.CookieSameSiteStrict || dev.Session || dev.Domain != "acme.localhost" {
		t.Fatalf("the browser holds device cookie %+v", dev)
	}
	do("log out", chromedp.Click(id("logout")), chromedp.WaitVisible(id("email")))

	stranger := e.newClient()
	for range 5 {
		if r := e.login(stranger, "jane@example.com", "guessed password"); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("stranger's guess answered %d", r.StatusCode)
		}
	}
	if r := e.login(stranger, "jane@example.com", testPassword); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a stranger with the right password got %d from the locked account", r.StatusCode)
	}
	login("log in again past the stranger's lock")
}
