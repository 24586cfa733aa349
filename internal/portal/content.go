package portal

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

// navLink is one menu link.
type navLink struct {
	Path, Title string
	External    bool
}

// footerSection is a titled group of footer links.
type footerSection struct {
	Title string
	Links []navLink
}

// navNode is one page in the page tree beside a page.
type navNode struct {
	Path, Title string
	Current     bool
	Children    []navNode
}

// site is the portal's content as one viewer may see it: published pages
// (public ones, and signed-in ones for a signed-in developer), by path,
// with the menus.
type site struct {
	pages    map[string]store.PortalPage // every published page, by path
	paths    map[string]string           // page id -> path
	children map[string][]store.PortalPage
	signedIn bool
	menu     []navLink
	footer   []footerSection
	bottom   []navLink
}

// pagePath joins the slugs from the top: "guides" under "docs" is
// /docs/guides; a top-level "/" (or empty) slug is the home page.
func pagePath(parent, slug string) string {
	seg := strings.Trim(slug, "/")
	if seg == "" {
		return "/"
	}
	return strings.TrimSuffix(parent, "/") + "/" + seg
}

// visible reports whether the viewer may see a published page.
func (st site) visible(p store.PortalPage) bool {
	return p.Visibility == store.VisibilityPublic || st.signedIn
}

// loadSite reads the portal's pages and customization for a viewer.
func (s *server) loadSite(ctx context.Context, portalID string, signedIn bool) (site, error) {
	st := site{pages: map[string]store.PortalPage{}, paths: map[string]string{}, children: map[string][]store.PortalPage{}, signedIn: signedIn}
	pages, err := s.st.ListPortalPages(ctx, portalID)
	if err != nil {
		return st, err
	}
	for _, p := range pages { // ordered by parent, then position
		if p.Status == store.StatusPublished {
			st.children[p.ParentID] = append(st.children[p.ParentID], p)
		}
	}
	var walk func(parent, parentPath string)
	walk = func(parent, parentPath string) {
		for _, p := range st.children[parent] {
			path := pagePath(parentPath, p.Slug)
			if _, taken := st.pages[path]; !taken {
				st.pages[path], st.paths[p.ID] = p, path
			}
			walk(p.ID, path)
		}
	}
	walk("", "")
	// Kong's starter home page is "/home"; it is the portal's front page
	// too unless a page takes "/" itself.
	if home, ok := st.pages["/home"]; ok {
		if _, taken := st.pages["/"]; !taken {
			st.pages["/"] = home
		}
	}

	cu, err := s.st.GetPortalCustomization(ctx, portalID)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return st, err
	}
	if cu.Menu != nil {
		st.menu = st.links(cu.Menu.Main)
		for _, sec := range cu.Menu.FooterSections {
			if links := st.links(sec.Items); len(links) > 0 {
				st.footer = append(st.footer, footerSection{Title: sec.Title, Links: links})
			}
		}
		st.bottom = st.links(cu.Menu.FooterBottom)
	} else {
		// No menu set: the top-level pages are the menu.
		for _, p := range st.children[""] {
			if st.visible(p) {
				st.menu = append(st.menu, navLink{Path: st.paths[p.ID], Title: p.Title})
			}
		}
	}
	return st, nil
}

// links keeps the menu items the viewer may see.
func (st site) links(items []store.MenuItem) []navLink {
	var out []navLink
	for _, it := range items {
		if it.Visibility == store.VisibilityPublic || st.signedIn {
			out = append(out, navLink{Path: it.Path, Title: it.Title, External: it.External})
		}
	}
	return out
}

// tree is the page tree the viewer may see, current marking path.
func (st site) tree(parent, current string) []navNode {
	var out []navNode
	for _, p := range st.children[parent] {
		if !st.visible(p) || st.paths[p.ID] == "" {
			continue
		}
		out = append(out, navNode{Path: st.paths[p.ID], Title: p.Title, Current: st.paths[p.ID] == current,
			Children: st.tree(p.ID, current)})
	}
	return out
}

// viewer is the signed-in developer, if any. An expired session is
// cleared (its attempt is recorded by currentDeveloper); a store failure
// is logged and the page shown as to a visitor.
func (s *server) viewer(w http.ResponseWriter, r *http.Request) (store.Developer, bool) {
	if cookieValue(r, accessCookie) == "" {
		return store.Developer{}, false
	}
	d, err := s.currentDeveloper(r.Context(), r)
	switch {
	case err == nil:
		return d, true
	case errors.Is(err, errSessionExpired):
		s.clearSessionCookies(w, r)
	case !errors.Is(err, errNoSession):
		s.log.Error("page viewer", "trace_id", info(r).trace, "err", err)
	}
	return store.Developer{}, false
}

// withSite puts the menus on a page; a store failure leaves them off.
func (s *server) withSite(r *http.Request, d *pageData, signedIn bool) site {
	st, err := s.loadSite(r.Context(), info(r).portal.ID, signedIn)
	if err != nil {
		s.log.Error("portal content", "trace_id", info(r).trace, "err", err)
		return st
	}
	d.Menu, d.Footer, d.FooterBottom = st.menu, st.footer, st.bottom
	return st
}

// pageContent serves a content page by its path; any other request is
// the not-found page it always was.
func (s *server) pageContent(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.pageNotFound(w, r)
		return
	}
	dev, signedIn := s.viewer(w, r)
	if !s.servePage(w, r, r.URL.Path, dev, signedIn) {
		s.pageNotFound(w, r)
	}
}

// servePage renders the page at path for the viewer and reports whether
// there is one. A signed-in page sends a visitor to log in.
func (s *server) servePage(w http.ResponseWriter, r *http.Request, path string, dev store.Developer, signedIn bool) bool {
	d := s.newPage(w, r, "")
	d.LoggedIn = signedIn
	st := s.withSite(r, &d, signedIn)
	p, ok := st.pages[path]
	if !ok {
		return false
	}
	if !st.visible(p) {
		http.Redirect(w, r, "/login?m=signed-in-page", http.StatusSeeOther)
		return true
	}
	d.Title, d.Dev, d.Wide = p.Title, dev, true
	snippets, err := s.snippetsFor(r.Context(), p.PortalID, p.Content, signedIn)
	if err != nil {
		s.log.Error("portal snippets", "trace_id", info(r).trace, "err", err)
	}
	d.Body = s.md.RenderPage(p.Content, snippets)
	d.PagePath = st.paths[p.ID] // "/home" also when shown at "/"
	d.Tree = st.tree("", d.PagePath)
	s.render(w, r, http.StatusOK, "page", d)
	return true
}

// landing is where a developer goes after logging in: the front page
// when the portal has one, else the profile.
func (s *server) landing(ctx context.Context, portalID string) string {
	st, err := s.loadSite(ctx, portalID, true)
	if err != nil {
		return "/profile"
	}
	if _, ok := st.pages["/"]; ok {
		return "/"
	}
	return "/profile"
}

// themeCSS serves the portal's primary colour (checked as a hex colour
// when it was set) as the stylesheet's accent, so the pages need no
// inline style.
func (s *server) themeCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	cu, err := s.st.GetPortalCustomization(r.Context(), info(r).portal.ID)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		s.log.Error("portal theme", "trace_id", info(r).trace, "err", err)
	}
	if cu.Theme != nil && cu.Theme.Colors != nil && cu.Theme.Colors.Primary != nil && hexColor(*cu.Theme.Colors.Primary) {
		_, _ = w.Write([]byte(":root { --accent:" + *cu.Theme.Colors.Primary + "; }\n"))
	}
}

// hexColor reports whether c is #rgb or #rrggbb: checked again here, since
// it lands in a stylesheet.
func hexColor(c string) bool {
	if len(c) != 4 && len(c) != 7 || c[0] != '#' {
		return false
	}
	for _, r := range c[1:] {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return true
}
