package content

import (
	"html"
	"regexp"
	"strings"
	"testing"
)

// Whatever the Markdown, the HTML carries no script element, no event
// handler attribute, no style, no iframe/object/embed/form, and no link or
// source whose scheme could run code.
var (
	forbiddenTag   = regexp.MustCompile(`(?i)<\s*/?\s*(script|style|iframe|object|embed|form|input|button|svg|math|base|meta|link)\b`)
	eventAttribute = regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
	styleAttribute = regexp.MustCompile(`(?i)<[^>]*\sstyle\s*=`)
	urlAttribute   = regexp.MustCompile(`(?i)<[a-z][^>]*?\s(?:href|src|action|formaction|xlink:href)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)`)
	safeScheme     = map[string]bool{"http": true, "https": true, "mailto": true}
)

// unsafeURL reports whether a browser could take v (an attribute's raw
// value) as a URL with a scheme other than http, https or mailto.
func unsafeURL(v string) bool {
	v = html.UnescapeString(v)
	// Browsers ignore ASCII tabs, newlines and leading controls in URLs.
	v = strings.Map(func(r rune) rune {
		if r <= ' ' {
			return -1
		}
		return r
	}, v)
	end := strings.IndexAny(v, "/?#")
	if end < 0 {
		end = len(v)
	}
	scheme, _, ok := strings.Cut(v[:end], ":")
	return ok && !safeScheme[strings.ToLower(scheme)]
}

func FuzzRender(f *testing.F) {
	for _, seed := range []string{
		"# t\n\n*x*", "<script>alert(1)</script>", "[x](javascript:alert(1))", "[x](JaVaScRiPt:alert(1))",
		"[x](java\tscript:alert(1))", "[x](&#106;avascript:alert(1))", "![i](javascript:alert(1))",
		"<a href=\"javascript:alert(1)\">x</a>", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>",
		"[x](data:text/html,<script>alert(1)</script>)", "<style>body{}</style>", "<iframe src=//e.com>",
		"---\ntitle: <script>\n---\nbody", "| a |\n|---|\n| <b onclick=x>b</b> |", "<https://e.com>", "[x]( vbscript:msgbox )",
		"<div style=\"background:url(javascript:alert(1))\">x</div>", "`<script>`", "```html\n<script>\n```",
		"::snippet{name=\"a\"}\n<script>x</script>", "::snippet\n---\nname: b\n---\n::\n[x](javascript:y)", ":snippet{ name='c' }",
	} {
		f.Add(seed)
	}
	r := NewRenderer()
	f.Fuzz(func(t *testing.T, src string) {
		// Every snippet a page names is the page itself: references nest
		// to the depth limit, and the snippet's Markdown is as hostile as
		// the page's.
		checkSafe(t, string(r.Render(src)))
		checkSafe(t, string(r.RenderPage(src, func(string) (string, bool) { return src, true })))
	})
}

func checkSafe(t *testing.T, out string) {
	t.Helper()
	if m := forbiddenTag.FindString(out); m != "" {
		t.Fatalf("forbidden tag %q in %q", m, out)
	}
	if m := eventAttribute.FindString(out); m != "" {
		t.Fatalf("event handler %q in %q", m, out)
	}
	if m := styleAttribute.FindString(out); m != "" {
		t.Fatalf("style attribute %q in %q", m, out)
	}
	for _, m := range urlAttribute.FindAllStringSubmatch(out, -1) {
		if v := strings.Trim(m[1], `"'`); unsafeURL(v) {
			t.Fatalf("unsafe URL %q in %q", v, out)
		}
	}
}
