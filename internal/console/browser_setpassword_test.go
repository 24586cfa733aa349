package console

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/testenv"
)

// TestSetPasswordInTheBrowser follows an emailed link in a real Chromium:
// the page passes axe-core, the password is typed by keyboard, a mismatch
// is shown beside its field, and the user ends on the log-in page and logs
// in with the new password.
func TestSetPasswordInTheBrowser(t *testing.T) {
	axe := testenv.Axe(t)
	e := newEnv(t, Config{})
	_, token := e.invite("invited@example.com", store.RoleReadOnly)

	ctx := testenv.Browser(t, 2*time.Minute, 1280, 900)
	do := func(step string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	testenv.AllowInjectedScripts(t, ctx)
	check := func(name string) {
		t.Helper()
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot of %s: %v", name, err)
		}
		// Under -update (the browser test's flag, in this test binary)
		// the screenshots go to testdata/ for review too.
		paths := []string{filepath.Join(t.ArtifactDir(), "console-"+name+".png")}
		if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
			paths = append(paths, filepath.Join("testdata", "console-"+name+".png"))
		}
		for _, p := range paths {
			if err := os.WriteFile(p, shot, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		testenv.AxeCheck(t, ctx, name, axe)
	}
	text := func(step, sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		return strings.TrimSpace(v)
	}

	do("open the link", chromedp.Navigate(e.srv.URL+"/set-password?token="+token), chromedp.WaitVisible(chromedp.CSS("#password")))
	check("set-password")
	do("type a mismatch by keyboard", chromedp.SendKeys(chromedp.CSS("#password"), "long enough password\tanother password\r"),
		chromedp.WaitVisible(chromedp.CSS("#confirm-error")))
	check("set-password-error")
	do("type the password twice", chromedp.SendKeys(chromedp.CSS("#password"), "long enough password\tlong enough password\r"),
		chromedp.WaitVisible(chromedp.CSS("#notice")))
	if got := text("read the notice", "#notice"); !strings.Contains(got, "Your password is set") {
		t.Fatalf("after setting the password: %q", got)
	}
	do("log in", chromedp.SendKeys(chromedp.CSS("#email"), "invited@example.com\tlong enough password\r"),
		chromedp.WaitVisible(chromedp.CSS("#webhooks")))
	do("open the used link", chromedp.Navigate(e.srv.URL+"/set-password?token="+token), chromedp.WaitVisible(chromedp.CSS("#error")))
	check("set-password-used")
}
