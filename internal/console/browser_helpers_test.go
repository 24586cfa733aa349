package console

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sigtrail/sigtrail/internal/testenv"
)

// chrome is a real Chromium on console pages for one test, with
// axe-core's checks (when SIGTRAIL_AXE_JS is set).
type chrome struct {
	t   *testing.T
	ctx context.Context
	axe []byte
}

func newChrome(t *testing.T) *chrome {
	t.Helper()
	c := &chrome{t: t, axe: testenv.Axe(t), ctx: testenv.Browser(t, 2*time.Minute, 1280, 900)}
	// The pages allow no script; axe is injected with their policy bypassed.
	testenv.AllowInjectedScripts(t, c.ctx)
	return c
}

// do runs a step's actions, failing the test on an error.
func (c *chrome) do(step string, steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, steps...); err != nil {
		c.t.Fatalf("%s: %v", step, err)
	}
}

// check photographs the page and runs axe-core on it. Under -update (the
// browser test's flag, in this test binary) the screenshots go to
// testdata/ for review too.
func (c *chrome) check(name string) {
	c.t.Helper()
	shot, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.t.Fatalf("screenshot of %s: %v", name, err)
	}
	paths := []string{filepath.Join(c.t.ArtifactDir(), "console-"+name+".png")}
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		paths = append(paths, filepath.Join("testdata", "console-"+name+".png"))
	}
	for _, p := range paths {
		if err := os.WriteFile(p, shot, 0o644); err != nil {
			c.t.Fatal(err)
		}
	}
	testenv.AxeCheck(c.t, c.ctx, name, c.axe)
}

// text is the trimmed text of the element sel selects.
func (c *chrome) text(step, sel string) string {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		c.t.Fatalf("%s: %v", step, err)
	}
	return strings.TrimSpace(v)
}
