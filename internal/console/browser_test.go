package console_test

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sigtrail/sigtrail/internal/cli"
	"github.com/sigtrail/sigtrail/internal/sink"
	"github.com/sigtrail/sigtrail/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the console screenshots under testdata/")

const (
	adminEmail  = "admin@example.com"
	readerEmail = "reader@example.com"
	password    = "correct horse battery staple"
)

// sigtrail runs a CLI command in-process and returns its stdout.
func sigtrail(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	var out, errs testenv.LogBuffer
	if code := cli.Run(context.Background(), args, func(string) string { return "" }, strings.NewReader(stdin), &out, &errs); code != 0 {
		t.Fatalf("sigtrail %s: exit %d: %s", strings.Join(args, " "), code, errs.String())
	}
	return out.String()
}

// serve runs `sigtrail serve` in-process until the test ends and returns
// the management listener's base URL.
func serve(t *testing.T, dir string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs testenv.LogBuffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, []string{"serve", "--data-dir", dir, "--addr", "127.0.0.1:0", "--portal-addr", "127.0.0.1:0",
			"--insecure-destinations", "--log-level", "warn"}, func(string) string { return "" }, strings.NewReader(""), &out, &errs)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d: %s", code, errs.String())
		}
	})
	re := regexp.MustCompile(`management API on (http://127\.0\.0\.1:\d+)`)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("serve did not start: %s", errs.String())
	return ""
}

// TestConsoleInTheBrowser is the flow in a real Chromium against a
// real server and a sink: log in (by keyboard), create a destination at
// the sink, enable the org webhook, see it turn active once an entry is
// delivered, filter the log to one outcome and export it, start a replay
// and see it reach 100 %, and check that a read-only user gets no write
// controls and that the log holds the console log-ins. Every page is
// checked with axe-core and photographed.
func TestConsoleInTheBrowser(t *testing.T) {
	axe := testenv.Axe(t)

	received := &testenv.LogBuffer{}
	sk, err := sink.New(sink.Config{Out: received})
	if err != nil {
		t.Fatal(err)
	}
	sinkSrv := httptest.NewServer(sk)
	t.Cleanup(sinkSrv.Close)

	dir := t.TempDir()
	base := serve(t, dir)
	orgID := strings.Fields(sigtrail(t, "", "org", "create", "acme", "--data-dir", dir))[0]
	sigtrail(t, password+"\n", "user", "create", "--org", "acme", "--email", adminEmail, "--role", "org-admin", "--password-stdin", "--data-dir", dir)
	sigtrail(t, password+"\n", "user", "create", "--org", "acme", "--email", readerEmail, "--role", "read-only", "--password-stdin", "--data-dir", dir)

	ctx := testenv.Browser(t, 4*time.Minute, 1280, 900)
	do := func(step string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", step, err)
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
	eval := func(step, js string) int {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[int](js))
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		return v
	}
	// The pages allow no script; axe is injected with their policy bypassed.
	testenv.AllowInjectedScripts(t, ctx)
	check := func(name string) {
		t.Helper()
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot of %s: %v", name, err)
		}
		saveScreenshot(t, "console-"+name+".png", shot)
		testenv.AxeCheck(t, ctx, name, axe)
	}
	until := func(step, url string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(500 * time.Millisecond) {
			do(step, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body")))
			if ok() {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: timed out", step)
			}
		}
	}

	do("open the console", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#email")))
	check("login")
	// By keyboard: type, Tab to the password, Enter submits.
	do("log in by keyboard", chromedp.SendKeys(chromedp.CSS("#email"), adminEmail+"\t"+password+"\r"),
		chromedp.WaitVisible(chromedp.CSS("#webhooks")))
	check("overview")

	do("create a destination at the sink",
		chromedp.Navigate(base+"/destinations"), chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), "test sink"),
		chromedp.SendKeys(chromedp.CSS("#endpoint"), sinkSrv.URL+"/"),
		chromedp.SendKeys(chromedp.CSS("#authorization"), "Bearer sink-secret"),
		chromedp.SetValue(chromedp.CSS("#log_format"), "json"),
		chromedp.Click(chromedp.CSS("#save-destination")),
		chromedp.WaitVisible(chromedp.CSS("#notice")))
	check("destination")
	do("list destinations", chromedp.Navigate(base+"/destinations"), chromedp.WaitVisible(chromedp.CSS("#destinations")))
	check("destinations")

	do("enable the org webhook",
		chromedp.Navigate(base+"/webhooks"), chromedp.WaitVisible(chromedp.CSS("#destination-org")),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#destination-org").selectedIndex = 1`),
		chromedp.Click(chromedp.CSS("#enabled-org")),
		chromedp.Click(chromedp.CSS("#save-org")),
		chromedp.WaitVisible(chromedp.CSS("#notice")))
	orgStatus := `tr[data-stream="` + orgID + `"] [data-status]`
	until("see the org webhook turn active", base+"/", func() bool { return text("read the status", orgStatus) == "active" })
	if !strings.Contains(received.String(), `"org_id":"`+orgID+`"`) {
		t.Fatalf("the sink received no entry of the org: %q", received.String())
	}
	check("overview-active")
	do("see the webhook's attempts", chromedp.Navigate(base+"/webhooks"), chromedp.WaitVisible(chromedp.CSS("#form-org")))
	check("webhooks")

	do("filter the log to successful log-ins",
		chromedp.Navigate(base+"/log"), chromedp.WaitVisible(chromedp.CSS("#log-filters")),
		chromedp.SetValue(chromedp.CSS("#type"), "authentication"),
		chromedp.SetValue(chromedp.CSS("#outcome"), "success"),
		chromedp.Click(chromedp.CSS("#apply-filters")))
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err == nil && strings.Contains(loc, "outcome=success") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the filtered log did not load: %s %v", loc, err)
		}
	}
	do("wait for the filtered log", chromedp.WaitVisible(chromedp.CSS("#entries")))
	rows := eval("count rows", `document.querySelectorAll("tr.entry").length`)
	others := eval("count other outcomes", `document.querySelectorAll("tr.entry:not([data-outcome=success])").length`)
	unverified := eval("count unverified", `document.querySelectorAll("[data-verified=false]").length`)
	if rows < 1 || others != 0 || unverified != 0 {
		t.Fatalf("filtered log: %d rows, %d of other outcomes, %d unverified", rows, others, unverified)
	}
	check("log")
	export := exportWithBrowserCookies(t, ctx, base+"/log/export?type=authentication&outcome=success&format=ndjson")
	lines := strings.Split(strings.TrimSpace(export), "\n")
	for _, l := range lines {
		var item map[string]any
		if err := json.Unmarshal([]byte(l), &item); err != nil || item["outcome"] != "success" || item["signature"] == "" {
			t.Fatalf("exported line %q", l)
		}
	}
	if len(lines) != rows {
		t.Errorf("export has %d lines, the page %d rows", len(lines), rows)
	}

	do("start a replay", chromedp.Navigate(base+"/replay"), chromedp.WaitVisible(chromedp.CSS("#start-replay")),
		chromedp.Click(chromedp.CSS("#start-replay")), chromedp.WaitVisible(chromedp.CSS("#notice")))
	until("see the replay reach 100 %", base+"/replay", func() bool { return text("read the progress", "#job-percent") == "100 %" })
	if s := text("read the job status", "#job-status"); s != "completed" {
		t.Errorf("replay status %q at 100 %%", s)
	}
	do("start another replay", chromedp.Navigate(base+"/replay"), chromedp.WaitVisible(chromedp.CSS("#start-replay")),
		chromedp.Click(chromedp.CSS("#start-replay")), chromedp.WaitVisible(chromedp.CSS("#notice")))
	until("see the first replay among the past jobs", base+"/replay", func() bool {
		return text("read the progress", "#job-percent") == "100 %" && strings.Contains(text("read the past jobs", "#past-jobs tbody"), "completed")
	})
	check("replay")
	do("create an org token by keyboard", chromedp.Navigate(base+"/tokens"), chromedp.WaitVisible(chromedp.CSS("#token-form")),
		chromedp.SendKeys(chromedp.CSS("#name"), "ingest"),
		chromedp.SetValue(chromedp.CSS("#role"), "producer"),
		chromedp.Focus(chromedp.CSS("#owner-me")),
		chromedp.KeyEvent(kb.ArrowDown), // radios: the arrow moves the choice to the org token
		chromedp.Click(chromedp.CSS("#create-token")), chromedp.WaitVisible(chromedp.CSS("#new-token")))
	if owner := text("read the new token's owner", "#tokens tbody tr:last-child td:nth-child(5)"); owner != "org (no owner)" {
		t.Errorf("the token created as an org token shows the owner %q", owner)
	}
	check("token-created")
	for _, p := range []string{"portals", "keys", "tokens", "users"} {
		do("open "+p, chromedp.Navigate(base+"/"+p), chromedp.WaitVisible(chromedp.CSS("h1")))
		check(p)
	}

	do("log out", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#notice")))
	do("log in read-only", chromedp.SendKeys(chromedp.CSS("#email"), readerEmail), chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#webhooks")))
	for _, p := range []string{"/", "/destinations", "/webhooks", "/log", "/replay", "/portals", "/keys", "/tokens"} {
		do("open "+p+" read-only", chromedp.Navigate(base+p), chromedp.WaitVisible(chromedp.CSS("h1")))
		// The log-out form is the only one that posts.
		if n := eval("count write forms", `document.querySelectorAll("form[method=post]").length`); n != 1 {
			t.Errorf("%s shows %d posting forms to a read-only user", p, n)
		}
	}
	do("read-only log of log-ins", chromedp.Navigate(base+"/log?type=authentication&outcome=success"), chromedp.WaitVisible(chromedp.CSS("#entries")))
	if n := eval("count log-ins", `document.querySelectorAll("tr.entry").length`); n < 2 {
		t.Errorf("the log shows %d successful log-ins, want the admin's and the reader's", n)
	}
	check("log-read-only")
}

// exportWithBrowserCookies downloads url with the browser's session.
func exportWithBrowserCookies(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
	if err != nil {
		t.Fatalf("cookies: %v", err)
	}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for _, c := range res.Cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("export answered %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	return string(b)
}

func saveScreenshot(t *testing.T, name string, png []byte) {
	t.Helper()
	if len(png) < 1000 {
		t.Fatalf("screenshot %s of %d bytes", name, len(png))
	}
	paths := []string{filepath.Join(t.ArtifactDir(), name)}
	if *update {
		paths = append(paths, filepath.Join("testdata", name))
	}
	for _, p := range paths {
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
