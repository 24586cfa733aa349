package content

import (
	"strings"
	"testing"
)

func TestRenderPageSnippets(t *testing.T) {
	t.Parallel()
	lib := map[string]string{
		"keys":    "---\ntitle: get-api-keys\ndescription: How to get API keys\n---\n**Obtain API keys** from your profile.",
		"outer":   "Outer start\n\n:snippet{ name=\"keys\" }\n\nOuter end",
		"loop-a":  "A then ::\n\n::snippet{name=\"loop-b\"}",
		"loop-b":  "B\n\n::snippet{name=\"loop-a\"}",
		"self":    "Self\n\n::snippet{name=\"self\"}",
		"scripty": "<script>alert(1)</script>\n\n[x](javascript:alert(1)) safe text",
	}
	r := NewRenderer()
	lookup := func(name string) (string, bool) { md, ok := lib[name]; return md, ok }
	tests := []struct {
		name, src     string
		want, notWant []string
	}{
		{"block form with front matter props (Kong's docs)", "# Page\n\n::snippet\n---\nname: \"keys\"\n---\n::\n\nAfter",
			[]string{"<strong>Obtain API keys</strong> from your profile.", "<p>After</p>"}, []string{"::", "name:", "get-api-keys"}},
		{"block form with inline props", "Before\n::snippet{name=\"keys\"}\n::\nAfter",
			[]string{"<p>Before</p>", "<strong>Obtain API keys</strong>", "<p>After</p>"}, []string{"::"}},
		{"inline form, single quotes, inside another component", "::page-section\n## Title\n\n:snippet{ name='keys' }\n::",
			[]string{"<strong>Obtain API keys</strong>", "<h2 id=\"title\">Title</h2>"}, []string{"snippet{"}},
		{"unquoted name", ":snippet{name=keys}", []string{"<strong>Obtain API keys</strong>"}, nil},
		{"nested snippets", ":snippet{name=\"outer\"}",
			[]string{"<p>Outer start</p>", "<strong>Obtain API keys</strong>", "<p>Outer end</p>"}, nil},
		{"a cycle stops", "::snippet{name=\"loop-a\"}", []string{"A then ::", "<p>B</p>"}, []string{"snippet"}},
		{"a snippet embedding itself stops", "::snippet{name=\"self\"}", []string{"<p>Self</p>"}, []string{"snippet"}},
		{"unknown snippet renders nothing", "Before\n\n::snippet{name=\"nope\"}\n\nAfter", []string{"<p>Before</p>", "<p>After</p>"}, []string{"nope", "snippet"}},
		{"no name renders nothing", "::snippet\n::\nText", []string{"<p>Text</p>"}, []string{"snippet", "::"}},
		{"in a fenced code block it stays text", "```\n::snippet{name=\"keys\"}\n```",
			[]string{"<code>::snippet{name=&#34;keys&#34;}\n</code>"}, []string{"Obtain"}},
		{"mid-sentence it stays text", "See :snippet{name=\"keys\"} here", []string{"See :snippet{name=&#34;keys&#34;} here"}, []string{"Obtain"}},
		{"a snippet's content is sanitised like a page's", ":snippet{name=\"scripty\"}", []string{"safe text"}, []string{"<script", "javascript:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := string(r.RenderPage(tt.src, lookup))
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output holds %q:\n%s", w, out)
				}
			}
		})
	}
}

// A page of many references to snippets of many references stops
// growing at the expansion budget instead of multiplying.
func TestRenderPageSnippetFanOutIsBounded(t *testing.T) {
	t.Parallel()
	fan := strings.Repeat("::snippet{name=\"fan\"}\n", 200)
	calls := 0
	lookup := func(string) (string, bool) { calls++; return fan + "x\n", true }
	out := NewRenderer().RenderPage(fan, lookup)
	if calls > maxSnippetRefs || len(out) > maxExpandedMarkdown*2 {
		t.Fatalf("%d lookups, %d bytes", calls, len(out))
	}
}

func TestRenderWithoutSnippetsDropsReferences(t *testing.T) {
	t.Parallel()
	out := string(NewRenderer().Render("Hi\n\n::snippet{name=\"keys\"}"))
	if strings.Contains(out, "snippet") || !strings.Contains(out, "<p>Hi</p>") {
		t.Fatalf("Render: %s", out)
	}
}
