package content

import (
	"bytes"
	"html/template"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
)

// Renderer renders Markdown to sanitised HTML. It is safe for concurrent
// use; build one and share it.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
}

// NewRenderer returns a Renderer. goldmark is left at its safe default
// (raw HTML and dangerous link schemes are not rendered), and bluemonday
// checks the output again: two independent layers, so a bug in one is
// not a hole.
func NewRenderer() *Renderer {
	policy := bluemonday.UGCPolicy()
	policy.RequireNoReferrerOnLinks(true)
	policy.AllowAttrs("id").Matching(bluemonday.Paragraph).OnElements("h1", "h2", "h3", "h4", "h5", "h6")
	return &Renderer{
		md: goldmark.New(
			goldmark.WithExtensions(extension.GFM),
			goldmark.WithParserOptions(parser.WithAutoHeadingID()),
		),
		policy: policy,
	}
}

// Render renders a page's Markdown (front matter removed) as HTML to put
// in a template unescaped.
// Snippet references render nothing; RenderPage fills them.
func (r *Renderer) Render(src string) template.HTML {
	return r.RenderPage(src, nil)
}

// RenderPage renders a page's Markdown with each snippet it references
// (Kong's ::snippet) in place, found by snippets.
func (r *Renderer) RenderPage(src string, snippets Snippets) template.HTML {
	_, body := SplitFrontMatter(src)
	body = expandSnippets(body, snippets)
	var buf bytes.Buffer
	if err := r.md.Convert([]byte(body), &buf); err != nil {
		// goldmark fails only when writing to buf fails, which it cannot;
		// show the text escaped rather than nothing.
		return template.HTML(template.HTMLEscapeString(body)) //nolint:gosec // escaped above
	}
	return template.HTML(r.policy.SanitizeBytes(buf.Bytes())) //nolint:gosec // sanitised by bluemonday
}
