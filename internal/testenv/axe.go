package testenv

import (
	"context"
	"os"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Axe reads axe-core, the accessibility engine, from SIGTRAIL_AXE_JS
// (scripts/test.sh installs it from npm and sets it). Without it the test
// fails under CI=true; elsewhere it logs that the checks do not run and
// returns nil, which AxeCheck takes as "skip".
func Axe(t testing.TB) []byte {
	t.Helper()
	p := os.Getenv("SIGTRAIL_AXE_JS")
	if p == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("SIGTRAIL_AXE_JS is not set (scripts/test.sh installs axe-core and sets it)")
		}
		t.Log("SIGTRAIL_AXE_JS is not set: the accessibility checks do not run")
		return nil
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("SIGTRAIL_AXE_JS: %v", err)
	}
	return b
}

// AllowInjectedScripts lets AxeCheck inject axe into pages whose
// Content-Security-Policy allows no script: the policy is bypassed through
// the DevTools protocol, for ctx's browser only.
func AllowInjectedScripts(t testing.TB, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
		t.Fatalf("bypass CSP: %v", err)
	}
}

// AxeCheck runs axe on the page ctx shows and fails the test (without
// stopping it) for each serious or critical violation, naming the page.
// A nil axe checks nothing.
func AxeCheck(t testing.TB, ctx context.Context, pageName string, axe []byte) {
	t.Helper()
	if axe == nil {
		return
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](string(axe)+";true")); err != nil {
		t.Fatalf("load axe on %s: %v", pageName, err)
	}
	type violation struct {
		ID, Impact, Help string
		Nodes            []string
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]violation](`axe.run(document, {resultTypes: ["violations"]}).then(r =>
		r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v =>
			({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" "))})))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe on %s: %v", pageName, err)
	}
	for _, v := range got {
		t.Errorf("%s: %s accessibility violation %s (%s) at %v", pageName, v.Impact, v.ID, v.Help, v.Nodes)
	}
}
