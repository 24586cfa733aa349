package content

import (
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	t.Parallel()
	r := NewRenderer()
	for _, tc := range []struct {
		name, in   string
		want, none []string
	}{
		{"heading and emphasis", "# Welcome\n\nSome *text*.", []string{`<h1 id="welcome">Welcome</h1>`, "<em>text</em>"}, nil},
		{"table", "| a | b |\n|---|---|\n| 1 | 2 |", []string{"<table>", "<td>1</td>"}, nil},
		{"link", "[docs](https://example.com/docs)", []string{`href="https://example.com/docs"`, `rel="nofollow noreferrer"`}, nil},
		{"raw script", "<script>alert(1)</script>\n\nok", []string{"ok"}, []string{"<script", "alert(1)</script"}},
		{"javascript link", "[x](javascript:alert(1))", nil, []string{"javascript:"}},
		{"data link", "[x](data:text/html;base64,PHNjcmlwdD4=)", nil, []string{"data:text/html"}},
		{"event handler", `<img src="x" onerror="alert(1)">`, nil, []string{"onerror"}},
		{"autolink", "see https://example.com", []string{`href="https://example.com"`}, nil},
		{"front matter", "---\ntitle: T\n---\n# Body", []string{"<h1"}, []string{"title: T"}},
	} {
		got := string(r.Render(tc.in))
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", tc.name, got, w)
			}
		}
		for _, n := range tc.none {
			if strings.Contains(strings.ToLower(got), n) {
				t.Errorf("%s: %q holds %q", tc.name, got, n)
			}
		}
	}
}

func TestSplitFrontMatter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, title, desc, body string
	}{
		{"---\ntitle: Getting started\ndescription: \"How to\"\n---\n# Hi\n", "Getting started", "How to", "# Hi\n"},
		{"---\r\ntitle: CRLF\r\n---\r\nbody", "CRLF", "", "body"},
		{"# No front matter", "", "", "# No front matter"},
		{"---\nnot closed\n", "", "", "---\nnot closed\n"},
		{"---\n- a list\n---\nbody", "", "", "---\n- a list\n---\nbody"},
		{"---\n---\nempty", "", "", "empty"},
	} {
		m, body := SplitFrontMatter(tc.in)
		if m.Title != tc.title || m.Description != tc.desc || body != tc.body {
			t.Errorf("SplitFrontMatter(%q) = %+v %q, want %q %q %q", tc.in, m, body, tc.title, tc.desc, tc.body)
		}
	}
}
