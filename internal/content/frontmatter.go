package content

import (
	"strings"

	"go.yaml.in/yaml/v4"
)

// Meta is what a page's front matter may set; Kong lets it override the
// title and description sent with the page.
type Meta struct {
	Title       string `yaml:"title"`
	Description string `yaml:"description"`
}

// SplitFrontMatter separates a leading YAML front matter block ("---"
// lines around it) from the Markdown body. Front matter that is not a
// YAML mapping is left in the body, as Markdown, rather than refused.
func SplitFrontMatter(src string) (Meta, string) {
	s := strings.TrimPrefix(src, "\ufeff")
	first, rest, ok := strings.Cut(s, "\n")
	if !ok || strings.TrimRight(first, " \t\r") != "---" {
		return Meta{}, src
	}
	for off := 0; off <= len(rest); {
		line, after, more := strings.Cut(rest[off:], "\n")
		if strings.TrimRight(line, " \t\r") == "---" {
			var m Meta
			if err := yaml.Unmarshal([]byte(rest[:off]), &m); err != nil {
				return Meta{}, src
			}
			return m, after
		}
		if !more {
			break
		}
		off += len(line) + 1
	}
	return Meta{}, src
}
