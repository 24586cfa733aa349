package api

import (
	"net/http"
	"strings"
	"testing"
)

type pageTreeList struct {
	Data []pageInfoJSON `json:"data"`
}

// TestPortalPages: pages as Kong's tools manage them, a tree with
// parents, order, moves, visibility and status; every answer is checked
// against Kong's spec by the harness.
func TestPortalPages(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{PortalDomainSuffix: "portals.example.net"})
	_, tok := h.org("o")
	_, otherTok := h.org("other")
	var p portalJSON
	h.call(http.MethodPost, "/v3/portals", tok, map[string]any{"name": "docs", "default_page_visibility": "public"}).
		expect(t, http.StatusCreated).decode(t, &p)
	base := "/v3/portals/" + p.ID + "/pages"

	// A portal's children are there to read before any is made.
	var tree pageTreeList
	h.call(http.MethodGet, base, tok, nil).expect(t, http.StatusOK).decode(t, &tree)
	if len(tree.Data) != 0 {
		t.Fatalf("new portal has pages: %+v", tree)
	}

	mk := func(body map[string]any) pageJSON {
		t.Helper()
		var pg pageJSON
		h.call(http.MethodPost, base, tok, body).expect(t, http.StatusCreated).decode(t, &pg)
		return pg
	}
	guides := mk(map[string]any{"slug": "/guides", "title": "Guides", "content": "# Guides", "status": "published"})
	if guides.Visibility != "public" || guides.Status != "published" || guides.ParentPageID != nil {
		t.Fatalf("created %+v", guides)
	}
	start := mk(map[string]any{"slug": "start", "content": "---\ntitle: Getting started\ndescription: First steps\n---\n# Start",
		"title": "ignored", "parent_page_id": guides.ID, "visibility": "private"})
	if start.Title != "Getting started" || start.Description == nil || *start.Description != "First steps" || start.Status != "unpublished" ||
		start.ParentPageID == nil || *start.ParentPageID != guides.ID {
		t.Fatalf("front matter page %+v", start)
	}
	auth := mk(map[string]any{"slug": "auth", "content": "# Auth", "parent_page_id": guides.ID})
	if auth.Title != "Auth" {
		t.Fatalf("title from slug: %q", auth.Title)
	}
	about := mk(map[string]any{"slug": "about", "content": "# About"})

	h.call(http.MethodPost, base, tok, map[string]any{"slug": "guides", "content": "x"}).expect(t, http.StatusCreated) // "/guides" and "guides" differ as written
	h.call(http.MethodPost, base, tok, map[string]any{"slug": "/guides", "content": "x"}).problem(t, http.StatusConflict)
	for _, body := range []map[string]any{
		{"content": "no slug"}, {"slug": "x"}, {"slug": "a b", "content": "x"}, {"slug": "../x", "content": "x"},
		{"slug": "x", "content": "x", "visibility": "secret"}, {"slug": "x", "content": "x", "status": "draft"},
		{"slug": "x", "content": "x", "parent_page_id": "nope"}, {"slug": "x", "content": "x", "parent_page_id": otherID(about.ID)},
		{"slug": "x", "content": "x", "description": strings.Repeat("d", 161)}, {"slug": "x", "content": "x", "extra": 1},
		{"slug": strings.Repeat("s", 513), "content": "x"},
	} {
		h.call(http.MethodPost, base, tok, body).problem(t, http.StatusBadRequest)
	}

	h.call(http.MethodGet, base, tok, nil).expect(t, http.StatusOK).decode(t, &tree)
	if got := slugs(tree.Data); got != "/guides[start auth] about guides" {
		t.Fatalf("tree %s", got)
	}

	// Move: auth first under guides, then about under guides last, then
	// back to the top first.
	h.call(http.MethodPost, base+"/"+auth.ID+"/move", tok, map[string]any{"parent_page_id": guides.ID, "index": 0}).expect(t, http.StatusCreated)
	h.call(http.MethodPost, base+"/"+about.ID+"/move", tok, map[string]any{"parent_page_id": guides.ID, "index": -1}).expect(t, http.StatusCreated)
	tree = pageTreeList{}
	h.call(http.MethodGet, base, tok, nil).expect(t, http.StatusOK).decode(t, &tree)
	if got := slugs(tree.Data); got != "/guides[auth start about] guides" {
		t.Fatalf("after moves %s", got)
	}
	h.call(http.MethodPost, base+"/"+about.ID+"/move", tok, map[string]any{"parent_page_id": nil, "index": 0}).expect(t, http.StatusCreated)
	h.call(http.MethodPost, base+"/"+guides.ID+"/move", tok, map[string]any{"parent_page_id": start.ID}).problem(t, http.StatusBadRequest)
	h.call(http.MethodPost, base+"/"+guides.ID+"/move", tok, map[string]any{"index": "first"}).problem(t, http.StatusBadRequest)

	// Update: fields, then parent null moves it to the top, last.
	var u pageJSON
	h.call(http.MethodPatch, base+"/"+start.ID, tok, map[string]any{"status": "published", "title": "Start here"}).
		expect(t, http.StatusOK).decode(t, &u)
	if u.Status != "published" || u.Title != "Start here" || u.Content != start.Content || u.Visibility != "private" {
		t.Fatalf("patched %+v", u)
	}
	h.call(http.MethodPatch, base+"/"+start.ID, tok, map[string]any{"parent_page_id": nil}).expect(t, http.StatusOK).decode(t, &u)
	if u.ParentPageID != nil {
		t.Fatalf("parent kept: %+v", u)
	}
	h.call(http.MethodPatch, base+"/"+start.ID, tok, map[string]any{"slug": "about"}).problem(t, http.StatusConflict)
	h.call(http.MethodPatch, base+"/"+guides.ID, tok, map[string]any{"parent_page_id": auth.ID}).problem(t, http.StatusBadRequest)
	tree = pageTreeList{}
	h.call(http.MethodGet, base, tok, nil).expect(t, http.StatusOK).decode(t, &tree)
	if got := slugs(tree.Data); got != "about /guides[auth] guides start" {
		t.Fatalf("after updates %s", got)
	}

	// Filters list the matches flat.
	tree = pageTreeList{}
	h.call(http.MethodGet, base+"?filter%5Bvisibility%5D=private", tok, nil).expect(t, http.StatusOK).decode(t, &tree)
	if got := slugs(tree.Data); got != "start" {
		t.Fatalf("filtered %s", got)
	}
	h.call(http.MethodGet, base+"?filter%5Bcontent%5D=x", tok, nil).problem(t, http.StatusBadRequest)
	h.call(http.MethodGet, base+"?sort=title", tok, nil).problem(t, http.StatusBadRequest)

	// Another org sees nothing; a read-only token may read, not write.
	h.call(http.MethodGet, base, otherTok, nil).problem(t, http.StatusNotFound)
	h.call(http.MethodGet, base+"/"+guides.ID, otherTok, nil).problem(t, http.StatusNotFound)
	ro := h.token(orgOf(t, h, tok), "read-only", false, 0)
	h.call(http.MethodGet, base+"/"+guides.ID, ro, nil).expect(t, http.StatusOK)
	h.call(http.MethodPost, base, ro, map[string]any{"slug": "x", "content": "x"}).problem(t, http.StatusForbidden)

	// Deleting a page takes its subtree.
	h.call(http.MethodDelete, base+"/"+guides.ID, tok, nil).expect(t, http.StatusNoContent)
	h.call(http.MethodGet, base+"/"+auth.ID, tok, nil).problem(t, http.StatusNotFound)
	h.call(http.MethodDelete, base+"/"+guides.ID, tok, nil).problem(t, http.StatusNotFound)
}

// slugs draws a tree as "a[b c] d".
func slugs(nodes []pageInfoJSON) string {
	var parts []string
	for _, n := range nodes {
		s := n.Slug
		if len(n.Children) > 0 {
			s += "[" + slugs(n.Children) + "]"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestPortalSnippetsCustomizationAndDefaultContent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{PortalDomainSuffix: "portals.example.net"})
	_, tok := h.org("o")
	var p portalJSON
	h.call(http.MethodPost, "/v3/portals", tok, map[string]any{"name": "docs"}).expect(t, http.StatusCreated).decode(t, &p)
	base := "/v3/portals/" + p.ID

	var sn snippetJSON
	h.call(http.MethodPost, base+"/snippets", tok, map[string]any{"name": "banner", "content": "**Hello**"}).
		expect(t, http.StatusCreated).decode(t, &sn)
	if sn.Title != "banner" || sn.Visibility != "private" || sn.Status != "unpublished" {
		t.Fatalf("snippet %+v", sn)
	}
	h.call(http.MethodPost, base+"/snippets", tok, map[string]any{"name": "banner", "content": "x"}).problem(t, http.StatusConflict)
	for _, body := range []map[string]any{{"content": "x"}, {"name": "a b", "content": "x"}, {"name": "n"}, {"name": "n", "content": "x", "visibility": "all"}} {
		h.call(http.MethodPost, base+"/snippets", tok, body).problem(t, http.StatusBadRequest)
	}
	h.call(http.MethodPatch, base+"/snippets/"+sn.ID, tok, map[string]any{"status": "published", "visibility": "public"}).
		expect(t, http.StatusOK).decode(t, &sn)
	if sn.Status != "published" || sn.Visibility != "public" || sn.Content != "**Hello**" {
		t.Fatalf("patched snippet %+v", sn)
	}
	h.call(http.MethodGet, base+"/snippets/"+sn.ID, tok, nil).expect(t, http.StatusOK)

	// Default content: Kong's starter set, once; a second call adds nothing.
	var dc struct{ Pages, Snippets []string }
	h.call(http.MethodPost, base+"/default-content", tok, nil).expect(t, http.StatusCreated).decode(t, &dc)
	if strings.Join(dc.Pages, ",") != "/home,/about,/privacy" || strings.Join(dc.Snippets, ",") != "guides-sidebar-navigation,guides-sidebar-toc" {
		t.Fatalf("default content %+v", dc)
	}
	dc.Pages, dc.Snippets = nil, nil
	h.call(http.MethodPost, base+"/default-content", tok, nil).expect(t, http.StatusCreated).decode(t, &dc)
	if len(dc.Pages)+len(dc.Snippets) != 0 {
		t.Fatalf("second default content %+v", dc)
	}
	var list struct {
		Data []snippetInfoJSON `json:"data"`
		Meta pageMeta          `json:"meta"`
	}
	h.call(http.MethodGet, base+"/snippets?page%5Bsize%5D=2&page%5Bnumber%5D=2", tok, nil).expect(t, http.StatusOK).decode(t, &list)
	if list.Meta.Page.Total != 3 || len(list.Data) != 1 || list.Data[0].Name != "guides-sidebar-toc" {
		t.Fatalf("snippet page 2 %+v", list)
	}
	h.call(http.MethodGet, base+"/snippets?filter%5Bname%5D%5Bcontains%5D=BANN", tok, nil).expect(t, http.StatusOK).decode(t, &list)
	if len(list.Data) != 1 || list.Data[0].ID != sn.ID {
		t.Fatalf("filtered snippets %+v", list)
	}

	// Customization: the starter one, merged by PATCH, replaced by PUT.
	var cu map[string]any
	h.call(http.MethodGet, base+"/customization", tok, nil).expect(t, http.StatusOK).decode(t, &cu)
	if cu["layout"] != "topnav" {
		t.Fatalf("starter customization %v", cu)
	}
	cu = nil
	h.call(http.MethodPatch, base+"/customization", tok, map[string]any{"theme": map[string]any{"colors": map[string]any{"primary": "#abc"}}}).
		expect(t, http.StatusOK).decode(t, &cu)
	theme := cu["theme"].(map[string]any)
	if theme["name"] != "mint_rocket" || theme["colors"].(map[string]any)["primary"] != "#abc" || cu["menu"] == nil {
		t.Fatalf("merged customization %v", cu)
	}
	cu = nil
	h.call(http.MethodPut, base+"/customization", tok, map[string]any{"menu": map[string]any{"main": []any{
		map[string]any{"path": "/guides", "title": "Guides", "visibility": "private", "external": false},
		map[string]any{"path": "https://status.example.com", "title": "Status", "visibility": "public", "external": true},
	}}}).expect(t, http.StatusOK).decode(t, &cu)
	if cu["theme"] != nil || len(cu["menu"].(map[string]any)["main"].([]any)) != 2 {
		t.Fatalf("replaced customization %v", cu)
	}
	item := func(path, vis string) map[string]any {
		return map[string]any{"menu": map[string]any{"main": []any{map[string]any{"path": path, "title": "t", "visibility": vis, "external": false}}}}
	}
	for _, body := range []map[string]any{
		item("javascript:alert(1)", "public"), item("//evil.example/x", "public"), item("data:text/html,x", "public"),
		item("/ok", "everyone"), item("", "public"), {"theme": map[string]any{"mode": "neon"}},
		{"theme": map[string]any{"colors": map[string]any{"primary": "red"}}}, {"theme": map[string]any{"font": "x"}}, {"colour": 1},
	} {
		h.call(http.MethodPatch, base+"/customization", tok, body).problem(t, http.StatusBadRequest)
	}
	h.call(http.MethodGet, "/v3/portals/"+otherID(p.ID)+"/customization", tok, nil).problem(t, http.StatusNotFound)

	h.call(http.MethodDelete, base+"/snippets/"+sn.ID, tok, nil).expect(t, http.StatusNoContent)
	h.call(http.MethodGet, base+"/snippets/"+sn.ID, tok, nil).problem(t, http.StatusNotFound)
}

// otherID is id with its last hex digit changed: a well-formed id of no
// page. (Setting it to a fixed digit gave id itself one time in 16.)
func otherID(id string) string {
	last := "0"
	if id[len(id)-1] == '0' {
		last = "1"
	}
	return id[:len(id)-1] + last
}
