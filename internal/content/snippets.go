package content

import (
	"regexp"
	"strings"

	"go.yaml.in/yaml/v4"
)

// Snippets finds the Markdown of the snippet a page names, among those
// the viewer may see; ok false (unknown, unpublished, or signed-in only
// for a visitor) renders nothing in its place.
type Snippets func(name string) (markdown string, ok bool)

// Limits of snippet expansion: Kong lets snippets embed snippets, so a
// cycle or a fan-out must not make a page grow without end.
const (
	maxSnippetDepth     = 5
	maxSnippetRefs      = 1000 // snippets expanded per page
	maxExpandedMarkdown = 4 << 20
)

// Kong's Dev Portal (MDC) embeds a snippet in three spellings, each on a
// line of its own:
//
//	::snippet            ::snippet{name="x"}       :snippet{ name="x" }
//	---                  ::
//	name: "x"
//	---
//	::
//
// inlineSnippet matches the last two (the closing "::" of the block form
// is optional); blockSnippet the first line of the first.
var (
	inlineSnippet = regexp.MustCompile(`^\s{0,3}(::?)snippet\{([^}]*)\}\s*$`)
	blockSnippet  = regexp.MustCompile(`^\s{0,3}::snippet\s*$`)
	snippetName   = regexp.MustCompile(`(?:^|\s)name\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+))`)
	fence         = regexp.MustCompile("^\\s{0,3}(`{3,}|~{3,})")
)

// expander replaces snippet references with the snippets' Markdown.
type expander struct {
	lookup Snippets
	budget int // bytes of Markdown still allowed
	refs   int // snippets still allowed
}

// expandSnippets returns the Markdown with every snippet reference outside
// a fenced code block replaced by that snippet's body (its front matter
// removed), expanded in turn.
func expandSnippets(md string, lookup Snippets) string {
	if !strings.Contains(md, "snippet") {
		return md
	}
	x := &expander{lookup: lookup, budget: maxExpandedMarkdown, refs: maxSnippetRefs}
	return x.expand(md, nil)
}

func (x *expander) expand(md string, stack []string) string {
	lines := strings.Split(md, "\n")
	var out strings.Builder
	var inFence string // the fence that opened the current code block
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if m := fence.FindStringSubmatch(line); m != nil {
			switch {
			case inFence == "":
				inFence = m[1]
			case m[1][0] == inFence[0] && len(m[1]) >= len(inFence):
				inFence = ""
			}
		}
		if inFence != "" {
			x.write(&out, line+"\n")
			continue
		}
		name, next, ok := reference(lines, i)
		if !ok {
			x.write(&out, line+"\n")
			continue
		}
		i = next - 1
		x.write(&out, "\n"+x.snippet(name, stack)+"\n\n")
	}
	return strings.TrimSuffix(out.String(), "\n")
}

// write appends s while the budget lasts; past it the page is cut short.
func (x *expander) write(b *strings.Builder, s string) {
	if len(s) > x.budget {
		x.budget = 0
		return
	}
	x.budget -= len(s)
	b.WriteString(s)
}

// snippet is the expanded body of the named snippet, or "" when the
// viewer may not see it, it is already being expanded (a cycle), the
// nesting is too deep or the page has used up its expansion budget.
func (x *expander) snippet(name string, stack []string) string {
	if name == "" || len(stack) >= maxSnippetDepth || x.lookup == nil || x.refs <= 0 || x.budget <= 0 {
		return ""
	}
	x.refs--
	for _, s := range stack {
		if s == name {
			return ""
		}
	}
	md, ok := x.lookup(name)
	if !ok {
		return ""
	}
	_, body := SplitFrontMatter(md)
	return x.expand(body, append(stack[:len(stack):len(stack)], name))
}

// reference reports whether lines[i] starts a snippet reference, its name
// and the index of the first line after it.
func reference(lines []string, i int) (name string, next int, ok bool) {
	if m := inlineSnippet.FindStringSubmatch(lines[i]); m != nil {
		next = i + 1
		if m[1] == "::" && next < len(lines) && strings.TrimSpace(lines[next]) == "::" {
			next++
		}
		return attrName(m[2]), next, true
	}
	if !blockSnippet.MatchString(lines[i]) {
		return "", 0, false
	}
	next = i + 1
	if next < len(lines) && strings.TrimSpace(lines[next]) == "---" {
		for end := next + 1; end < len(lines); end++ {
			if strings.TrimSpace(lines[end]) == "---" {
				var props struct {
					Name string `yaml:"name"`
				}
				if yaml.Unmarshal([]byte(strings.Join(lines[next+1:end], "\n")), &props) == nil {
					name = props.Name
				}
				next = end + 1
				break
			}
		}
	}
	if next < len(lines) && strings.TrimSpace(lines[next]) == "::" {
		next++
	}
	return name, next, true
}

// attrName reads name="..." from MDC's inline props.
func attrName(props string) string {
	m := snippetName.FindStringSubmatch(props)
	if m == nil {
		return ""
	}
	return m[1] + m[2] + m[3]
}
