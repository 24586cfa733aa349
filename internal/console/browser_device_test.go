package console

import (
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/testenv"
)

// TestKnownBrowserLogsInPastAStrangersLock: a real Chromium keeps the
// device cookie of a log-in (HttpOnly, SameSite=Strict) and sends it with
// the log-in form, so after a stranger's five wrong passwords lock the
// account, the user logs in from it again while the stranger, with the
// right password even, is refused.
func TestKnownBrowserLogsInPastAStrangersLock(t *testing.T) {
	e := newEnv(t, Config{})
	e.user("ada@example.com", store.RoleOrgAdmin)
	ctx := testenv.Browser(t, 2*time.Minute, 1280, 900)
	do := func(step string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	login := func(step string) {
		t.Helper()
		// The overview or the log-in page's error, whichever comes.
		do(step, chromedp.Navigate(e.srv.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#email")),
			chromedp.SendKeys(chromedp.CSS("#email"), "ada@example.com"), chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
			chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#webhooks, #error")))
		if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#webhooks").length`)); err != nil || n != 1 {
			t.Fatalf("%s: the browser did not reach the overview (%v)", step, err)
		}
	}
	login("log in")
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{e.srv.URL + "/login"}})
	if err != nil {
		t.Fatal(err)
	}
	var dev *network.Cookie
	for _, c := range res.Cookies {
		if c.Name == deviceCookie {
			dev = c
		}
	}
	if dev == nil || !dev.HTTPOnly || dev.SameSite != network.CookieSameSiteStrict || dev.Session {
		t.Fatalf("the browser holds device cookie %+v", dev)
	}
	do("log out", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#notice")))

	e.lockOut("ada@example.com")
	if p := e.browser().login("ada@example.com", testPassword); p.status != http.StatusUnauthorized {
		t.Fatalf("a stranger with the right password got %d from the locked account", p.status)
	}
	login("log in again past the stranger's lock")
}
