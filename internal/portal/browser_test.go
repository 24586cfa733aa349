package portal

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite files under testdata/ (the browser test's screenshot)")

// TestBrowserSignUpLogInLogOut drives a real Chromium through the pages:
// sign up, receive the email over SMTP, set the password, log in, see the
// profile, log out. The profile screenshot lands in the test's artifact
// directory (kept with -artifacts) and, with -update, in testdata/.
func TestBrowserSignUpLogInLogOut(t *testing.T) {
	ctx := testenv.Browser(t, 2*time.Minute, 900, 700)
	e := newEnv(t)
	do, get := driver(t, ctx)
	id := func(s string) chromedp.ID { return chromedp.ID(s) }

	do("open the sign-up page", chromedp.Navigate(e.base+"/signup"), chromedp.WaitVisible(id("email")))
	userAgent := get("read the user agent", chromedp.Evaluate[string](`navigator.userAgent`))
	do("sign up",
		chromedp.SendKeys(id("full_name"), "Jane Doe"),
		chromedp.SendKeys(id("email"), "jane@example.com"),
		chromedp.Click(id("submit")),
		chromedp.WaitVisible(id("done")),
	)

	link, _ := mailLink(t, e.nextMail())
	if !strings.HasPrefix(link, e.base+"/verify-email?token=") {
		t.Fatalf("emailed link %q", link)
	}
	do("set the password",
		chromedp.Navigate(link),
		chromedp.WaitVisible(id("password")),
		chromedp.SendKeys(id("password"), testPassword),
		chromedp.SendKeys(id("confirm"), testPassword),
		chromedp.Click(id("submit")),
		chromedp.WaitVisible(id("notice")),
	)
	if text := get("read the notice", chromedp.Text(id("notice"))); !strings.Contains(text, "Your password is set") {
		t.Errorf("notice after setting the password: %q", text)
	}

	do("log in",
		chromedp.SendKeys(id("email"), "jane@example.com"),
		chromedp.SendKeys(id("password"), testPassword),
		chromedp.Click(id("submit")),
		chromedp.WaitVisible(id("profile")),
	)
	text := get("read the profile", chromedp.Text(id("email")))
	location := get("read the location", chromedp.Location())
	if text != "jane@example.com" || location != e.base+"/profile" {
		t.Errorf("profile shows %q at %s", text, location)
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	saveScreenshot(t, shot)

	do("log out", chromedp.Click(id("logout")), chromedp.WaitVisible(id("notice")))
	text = get("read the notice", chromedp.Text(id("notice")))
	location = get("read the location", chromedp.Location())
	if text != "You have logged out." || location != e.base+"/login?m=logged-out" {
		t.Errorf("after log out: %q at %s", text, location)
	}
	do("open the profile after log out", chromedp.Navigate(e.base+"/profile"), chromedp.WaitVisible(id("password")))
	if location = get("read the location", chromedp.Location()); location != e.base+"/login" {
		t.Errorf("profile after log out went to %s", location)
	}

	// The browser's log-in is one audit entry, of the seed how-to's shape.
	d := e.developer("jane@example.com")
	got := e.entries()
	if len(got) != 1 {
		t.Fatalf("%d audit entries, want 1: %+v", len(got), got)
	}
	want := audit.Entry{Kind: audit.KindAuthentication, Time: got[0].Time, Product: audit.ProductDevPortal,
		ClassID: audit.AuthTypeBasic, Name: string(audit.OutcomeSuccess), Src: "127.0.0.1", OrgID: e.org.ID,
		PortalID: e.portal.ID, PrincipalID: d.ID, TraceID: got[0].TraceID, UserAgent: userAgent,
		Request: "/api/v2/developer/authenticate"}
	if got[0] != want || got[0].TraceID == "" || userAgent == "" {
		t.Errorf("entry\n got %+v\nwant %+v", got[0], want)
	}
}

func saveScreenshot(t *testing.T, png []byte) {
	t.Helper()
	if len(png) < 1000 {
		t.Fatalf("screenshot of %d bytes", len(png))
	}
	paths := []string{filepath.Join(t.ArtifactDir(), "profile.png")}
	if *update {
		paths = append(paths, filepath.Join("testdata", "browser-profile.png"))
	}
	for _, p := range paths {
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}
}
