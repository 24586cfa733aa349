package console

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/sigtrail/sigtrail/internal/store"
)

// TestSetPasswordInTheBrowser follows an emailed link in a real Chromium:
// the page passes axe-core, the password is typed by keyboard, a mismatch
// is shown beside its field, and the user ends on the log-in page and logs
// in with the new password.
func TestSetPasswordInTheBrowser(t *testing.T) {
	bin := ""
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	switch {
	case bin == "" && os.Getenv("CI") == "true":
		t.Fatal("chromium is missing (scripts/test.sh installs it)")
	case bin == "":
		t.Skip("chromium is missing (scripts/test.sh installs it)")
	}
	var axe []byte
	if p := os.Getenv("SIGTRAIL_AXE_JS"); p != "" {
		var err error
		if axe, err = os.ReadFile(p); err != nil {
			t.Fatalf("SIGTRAIL_AXE_JS: %v", err)
		}
	} else if os.Getenv("CI") == "true" {
		t.Fatal("SIGTRAIL_AXE_JS is not set (scripts/test.sh installs axe-core and sets it)")
	}
	e := newEnv(t, Config{})
	_, token := e.invite("invited@example.com", store.RoleReadOnly)

	root, cancelRoot := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancelRoot()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(root,
		chromedp.ExecPath(bin), chromedp.UserDataDir(t.TempDir()), chromedp.Flag("headless", true), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.WindowSize(1280, 900))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	do := func(step string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	if _, err := chromedp.Call(ctx, cdppage.SetBypassCSP, cdppage.SetBypassCSPParams{Enabled: true}); err != nil {
		t.Fatalf("bypass CSP: %v", err)
	}
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
		if axe == nil {
			return
		}
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](string(axe)+";true")); err != nil {
			t.Fatalf("load axe on %s: %v", name, err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`axe.run(document, {resultTypes: ["violations"]}).then(r =>
			r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => v.id + ": " + v.help))`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("axe on %s: %v", name, err)
		}
		for _, v := range got {
			t.Errorf("%s: accessibility violation %s", name, v)
		}
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
