package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumNames are where Debian's chromium, or another Chrome-like
// browser, may be found.
var chromiumNames = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"}

// Browser starts a headless Chromium for t and returns its context, closed
// when t ends; every step fails once timeout has passed, so a hung page
// fails the test instead of stalling it. The flags keep Chromium off the
// network (this machine's is closed: background services would retry) and
// let it run as root. Without a Chromium the test is skipped, or failed
// under CI=true. width and height set the window (0: Chromium's default).
func Browser(t testing.TB, timeout time.Duration, width, height int) context.Context {
	t.Helper()
	bin := Program(t, "apt-get install chromium; the browser tests need it", chromiumNames...)
	base, cancelBase := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancelBase)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin), chromedp.UserDataDir(t.TempDir()), chromedp.Flag("headless", true),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Flag("disable-quic", true), chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
	}
	if width > 0 && height > 0 {
		opts = append(opts, chromedp.WindowSize(width, height))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(base, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	return ctx
}
