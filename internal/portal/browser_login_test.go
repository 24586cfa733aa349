package portal

import (
	"context"
	"github.com/sigtrail/sigtrail/internal/testenv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser starts a headless Chromium for one test.
func browser(t *testing.T) context.Context {
	t.Helper()
	return testenv.Browser(t, 2*time.Minute, 0, 0)
}

// driver gives a browser test its two ways to act on ctx's page: do runs
// steps, get reads a value; each fails the test naming the step.
func driver(t *testing.T, ctx context.Context) (do func(string, ...chromedp.Action[chromedp.Void]), get func(string, chromedp.Action[string]) string) {
	do = func(step string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	get = func(step string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		return v
	}
	return do, get
}

// TestBrowserFailedLogInStaysOnLogin: after a wrong password the browser
// shows the form again at /login (not at the API path it posted to), and
// the right password from there logs in. Both attempts are audited under
// Kong's path.
func TestBrowserFailedLogInStaysOnLogin(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t)
	e.signUp("jane@example.com")
	id := func(s string) chromedp.ID { return chromedp.ID(s) }
	do, get := driver(t, ctx)
	do("open the log-in page", chromedp.Navigate(e.base+"/login"), chromedp.WaitVisible(id("email")))
	do("log in with a wrong password",
		chromedp.SendKeys(id("email"), "jane@example.com"),
		chromedp.SendKeys(id("password"), "not the password"),
		chromedp.Click(id("submit")),
		chromedp.WaitVisible(id("error")),
	)
	text := get("read the error", chromedp.Text(id("error")))
	if location := get("read the location", chromedp.Location()); location != e.base+"/login" || !strings.Contains(text, "Invalid email or password") {
		t.Fatalf("after a failed log-in: %q at %s", text, location)
	}
	do("log in again from there",
		chromedp.SetValue(id("email"), "jane@example.com"),
		chromedp.SendKeys(id("password"), testPassword),
		chromedp.Click(id("submit")),
		chromedp.WaitVisible(id("profile")),
	)
	if location := get("read the location", chromedp.Location()); location != e.base+"/profile" {
		t.Errorf("logged in at %s", location)
	}
	got := e.entries()
	if len(got) != 2 || got[0].Request != "/api/v2/developer/authenticate" || got[1].Request != "/api/v2/developer/authenticate" {
		t.Fatalf("entries %+v", got)
	}
}
