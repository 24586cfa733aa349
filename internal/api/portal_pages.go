package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/content"
	"github.com/sigtrail/sigtrail/internal/store"
)

// portalContentRoutes serves a portal's pages, snippets, customization
// and default content (Kong's portal-management-v3).
func (s *server) portalContentRoutes() []route {
	const pages, page = "/v3/portals/{portalId}/pages", "/v3/portals/{portalId}/pages/{pageId}"
	const snippets, snippet = "/v3/portals/{portalId}/snippets", "/v3/portals/{portalId}/snippets/{snippetId}"
	const custom = "/v3/portals/{portalId}/customization"
	return []route{
		{method: http.MethodGet, path: pages, resource: resPortals, action: audit.ActionList, roles: portalReaders(), handle: s.listPages},
		{method: http.MethodPost, path: pages, resource: resPortals, action: audit.ActionCreate, roles: portalWriters(), handle: s.createPage},
		{method: http.MethodGet, path: page, resource: resPortals, action: audit.ActionRetrieve, roles: portalReaders(), handle: s.getPage},
		{method: http.MethodPatch, path: page, resource: resPortals, action: audit.ActionEdit, roles: portalWriters(), handle: s.updatePage},
		{method: http.MethodDelete, path: page, resource: resPortals, action: audit.ActionDelete, roles: portalWriters(), handle: s.deletePage},
		{method: http.MethodPost, path: page + "/move", resource: resPortals, action: audit.ActionEdit, roles: portalWriters(), handle: s.movePage},
		{method: http.MethodGet, path: snippets, resource: resPortals, action: audit.ActionList, roles: portalReaders(), handle: s.listSnippets},
		{method: http.MethodPost, path: snippets, resource: resPortals, action: audit.ActionCreate, roles: portalWriters(), handle: s.createSnippet},
		{method: http.MethodGet, path: snippet, resource: resPortals, action: audit.ActionRetrieve, roles: portalReaders(), handle: s.getSnippet},
		{method: http.MethodPatch, path: snippet, resource: resPortals, action: audit.ActionEdit, roles: portalWriters(), handle: s.updateSnippet},
		{method: http.MethodDelete, path: snippet, resource: resPortals, action: audit.ActionDelete, roles: portalWriters(), handle: s.deleteSnippet},
		{method: http.MethodGet, path: custom, resource: resPortals, action: audit.ActionRetrieve, roles: portalReaders(), handle: s.getCustomization},
		{method: http.MethodPut, path: custom, resource: resPortals, action: audit.ActionEdit, roles: portalWriters(), handle: s.putCustomization(false)},
		{method: http.MethodPatch, path: custom, resource: resPortals, action: audit.ActionEdit, roles: portalWriters(), handle: s.putCustomization(true)},
		{method: http.MethodPost, path: "/v3/portals/{portalId}/default-content", resource: resPortals, action: audit.ActionCreate, roles: portalWriters(), handle: s.createDefaultContent},
	}
}

// Limits of Kong's content schemas.
const (
	maxSlugLen         = 512
	maxTitleLen        = 512
	maxContentLen      = 1_000_000
	maxPageDescription = 160
)

// slugPattern: a URL path segment, optionally written with Kong's leading
// slash ("/about"); "/" alone is a portal's home page.
var slugPattern = regexp.MustCompile(`^/?([a-zA-Z0-9][a-zA-Z0-9._~-]*)?$`)

// pageJSON is Kong's PortalPageResponse.
type pageJSON struct {
	ID           string    `json:"id"`
	Slug         string    `json:"slug"`
	Title        string    `json:"title"`
	Content      string    `json:"content"`
	Visibility   string    `json:"visibility"`
	Status       string    `json:"status"`
	Description  *string   `json:"description,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	ParentPageID *string   `json:"parent_page_id"`
}

// pageInfoJSON is Kong's PortalPageInfo: a node of the page tree.
type pageInfoJSON struct {
	ID           string         `json:"id"`
	Slug         string         `json:"slug"`
	Title        string         `json:"title"`
	Visibility   string         `json:"visibility"`
	Status       string         `json:"status"`
	Description  *string        `json:"description,omitempty"`
	ParentPageID *string        `json:"parent_page_id"`
	Children     []pageInfoJSON `json:"children"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toPageJSON(p store.PortalPage) pageJSON {
	return pageJSON{ID: p.ID, Slug: p.Slug, Title: p.Title, Content: p.Content, Visibility: p.Visibility, Status: p.Status,
		Description: optional(p.Description), CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC(), ParentPageID: optional(p.ParentID)}
}

func toPageInfo(p store.PortalPage) pageInfoJSON {
	return pageInfoJSON{ID: p.ID, Slug: p.Slug, Title: p.Title, Visibility: p.Visibility, Status: p.Status,
		Description: optional(p.Description), ParentPageID: optional(p.ParentID), Children: []pageInfoJSON{},
		CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC()}
}

// pageTree nests pages (ordered by parent and position) under their parents.
func pageTree(pages []store.PortalPage) []pageInfoJSON {
	children := map[string][]store.PortalPage{}
	for _, p := range pages {
		children[p.ParentID] = append(children[p.ParentID], p)
	}
	var build func(parent string) []pageInfoJSON
	build = func(parent string) []pageInfoJSON {
		out := []pageInfoJSON{}
		for _, p := range children[parent] {
			n := toPageInfo(p)
			n.Children = build(p.ID)
			out = append(out, n)
		}
		return out
	}
	return build("")
}

// nullableID is a field that may be absent, null or a UUID.
type nullableID struct {
	present bool
	raw     json.RawMessage
}

func (n *nullableID) UnmarshalJSON(b []byte) error {
	n.present, n.raw = true, append(json.RawMessage(nil), b...)
	return nil
}

// value is the UUID, or "" for null or absent.
func (n nullableID) value(field string) (string, error) {
	raw := bytes.TrimSpace(n.raw)
	if !n.present || len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", apperr.InvalidField("body", field, "is_uuid", "must be a UUID or null")
	}
	id, ok := canonicalUUID(s)
	if !ok {
		return "", apperr.InvalidField("body", field, "is_uuid", "must be a UUID or null")
	}
	return id, nil
}

// pageBody is Kong's Create/UpdatePortalPageRequest.
type pageBody struct {
	Slug         *string    `json:"slug"`
	Title        *string    `json:"title"`
	Content      *string    `json:"content"`
	Visibility   *string    `json:"visibility"`
	Status       *string    `json:"status"`
	Description  *string    `json:"description"`
	ParentPageID nullableID `json:"parent_page_id"`
}

// apply merges the body into p and validates the result. Front matter in
// the content overrides the title and description, as Kong documents.
func (b pageBody) apply(p *store.PortalPage) error {
	if b.Slug != nil {
		p.Slug = strings.TrimSpace(*b.Slug)
	}
	if b.Title != nil {
		p.Title = strings.TrimSpace(*b.Title)
	}
	if b.Content != nil {
		p.Content = *b.Content
	}
	if b.Description != nil {
		p.Description = strings.TrimSpace(*b.Description)
	}
	if err := setVisibility(&p.Visibility, b.Visibility, "visibility"); err != nil {
		return err
	}
	if err := setStatus(&p.Status, b.Status); err != nil {
		return err
	}
	if b.ParentPageID.present {
		parent, err := b.ParentPageID.value("parent_page_id")
		if err != nil {
			return err
		}
		p.ParentID = parent
	}
	if b.Content != nil {
		meta, _ := content.SplitFrontMatter(p.Content)
		if meta.Title != "" {
			p.Title = strings.TrimSpace(meta.Title)
		}
		if meta.Description != "" {
			p.Description = strings.TrimSpace(meta.Description)
		}
	}
	if len(p.Slug) > maxSlugLen || !slugPattern.MatchString(p.Slug) || p.Slug == "" {
		return apperr.InvalidField("body", "slug", "matches_regex", "must be a URL path segment: letters, digits, '.', '_', '~' or '-', optionally after one '/'")
	}
	if p.Title == "" {
		p.Title = titleFromSlug(p.Slug)
	}
	if err := checkText("title", p.Title, maxTitleLen, true); err != nil {
		return err
	}
	if err := checkText("description", p.Description, maxPageDescription, false); err != nil {
		return err
	}
	if len(p.Content) > maxContentLen {
		return apperr.InvalidField("body", "content", "invalid", "must be at most 1000000 characters")
	}
	return nil
}

// titleFromSlug is the title of a page that names none: "getting-started"
// is "Getting started".
func titleFromSlug(slug string) string {
	t := strings.ReplaceAll(strings.Trim(slug, "/"), "-", " ")
	if t == "" {
		return "Home"
	}
	return strings.ToUpper(t[:1]) + t[1:]
}

func setVisibility(dst, in *string, field string) error {
	if in == nil {
		return nil
	}
	if *in != store.VisibilityPublic && *in != store.VisibilityPrivate {
		return apperr.InvalidField("body", field, "invalid", "must be public or private")
	}
	*dst = *in
	return nil
}

func setStatus(dst, in *string) error {
	if in == nil {
		return nil
	}
	if *in != store.StatusPublished && *in != store.StatusUnpublished {
		return apperr.InvalidField("body", "status", "invalid", "must be published or unpublished")
	}
	*dst = *in
	return nil
}

// page loads {pageId} of the caller's portal {portalId}.
func (s *server) page(c *call) (store.Portal, store.PortalPage, error) {
	p, err := s.portal(c)
	if err != nil {
		return p, store.PortalPage{}, err
	}
	id, err := c.pathUUID("pageId")
	if err != nil {
		return p, store.PortalPage{}, err
	}
	pg, err := s.st.GetPortalPage(c.ctx(), p.ID, id)
	if apperr.Is(err, apperr.NotFound) {
		return p, pg, apperr.New(apperr.NotFound, "Page %s not found", id)
	}
	return p, pg, err
}

// pageWriteError words the store's refusals of a page write for the API.
func pageWriteError(err error, slug string) error {
	switch {
	case apperr.Is(err, apperr.Conflict):
		return apperr.New(apperr.Conflict, "A page with slug %q already exists under the same parent", slug)
	case apperr.Is(err, apperr.NotFound):
		return apperr.InvalidField("body", "parent_page_id", "missing_reference", "does not name a page of this portal")
	}
	return err
}

func (s *server) listPages(c *call) error {
	p, err := s.portal(c)
	if err != nil {
		return err
	}
	q := c.r.URL.Query()
	if q.Get("sort") != "" {
		return apperr.InvalidField("query", "sort", "invalid", "is not supported; pages are listed as their tree")
	}
	filters, err := parseFilters(q, "id", "slug", "title", "visibility")
	if err != nil {
		return err
	}
	pages, err := s.st.ListPortalPages(c.ctx(), p.ID)
	if err != nil {
		return err
	}
	if len(filters) == 0 {
		return c.json(http.StatusOK, map[string]any{"data": pageTree(pages)})
	}
	// A filter lists the matching pages flat: a tree with holes would
	// misplace them.
	data := []pageInfoJSON{}
	for _, pg := range pages {
		if filters["id"].match(pg.ID) && filters["slug"].match(pg.Slug) && filters["title"].match(pg.Title) && filters["visibility"].match(pg.Visibility) {
			data = append(data, toPageInfo(pg))
		}
	}
	return c.json(http.StatusOK, map[string]any{"data": data})
}

func (s *server) createPage(c *call) error {
	p, err := s.portal(c)
	if err != nil {
		return err
	}
	var b pageBody
	if err := c.decode(&b); err != nil {
		return err
	}
	if b.Slug == nil {
		return apperr.InvalidField("body", "slug", "required", "is required")
	}
	if b.Content == nil {
		return apperr.InvalidField("body", "content", "required", "is required")
	}
	id, err := newID()
	if err != nil {
		return err
	}
	now := c.now()
	pg := store.PortalPage{ID: id, PortalID: p.ID, Visibility: pageVisibility(p), Status: store.StatusUnpublished, CreatedAt: now, UpdatedAt: now}
	if err := b.apply(&pg); err != nil {
		return err
	}
	if err := s.st.CreatePortalPage(c.ctx(), pg); err != nil {
		return pageWriteError(err, pg.Slug)
	}
	return c.json(http.StatusCreated, toPageJSON(pg))
}

// pageVisibility is a new page's visibility: the portal's default.
func pageVisibility(p store.Portal) string {
	if p.DefaultPageVisibility == store.VisibilityPublic {
		return store.VisibilityPublic
	}
	return store.VisibilityPrivate
}

func (s *server) getPage(c *call) error {
	_, pg, err := s.page(c)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, toPageJSON(pg))
}

func (s *server) updatePage(c *call) error {
	_, pg, err := s.page(c)
	if err != nil {
		return err
	}
	var b pageBody
	if err := c.decode(&b); err != nil {
		return err
	}
	if err := b.apply(&pg); err != nil {
		return err
	}
	pg.UpdatedAt = c.now()
	if err := s.st.UpdatePortalPage(c.ctx(), pg); err != nil {
		return pageWriteError(err, pg.Slug)
	}
	pg, err = s.st.GetPortalPage(c.ctx(), pg.PortalID, pg.ID)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, toPageJSON(pg))
}

func (s *server) deletePage(c *call) error {
	_, pg, err := s.page(c)
	if err != nil {
		return err
	}
	if err := s.st.DeletePortalPage(c.ctx(), pg.PortalID, pg.ID); err != nil {
		return err
	}
	return c.noContent()
}

// moveBody is Kong's MovePageRequestPayload; index defaults to the end.
type moveBody struct {
	ParentPageID nullableID `json:"parent_page_id"`
	Index        *int       `json:"index"`
}

func (s *server) movePage(c *call) error {
	_, pg, err := s.page(c)
	if err != nil {
		return err
	}
	var b moveBody
	if err := c.decode(&b); err != nil {
		return err
	}
	parent, err := b.ParentPageID.value("parent_page_id")
	if err != nil {
		return err
	}
	index := -1
	if b.Index != nil {
		index = *b.Index
	}
	if err := s.st.MovePortalPage(c.ctx(), pg.PortalID, pg.ID, parent, index); err != nil {
		if apperr.Is(err, apperr.Conflict) {
			return apperr.New(apperr.Conflict, "A page with slug %q already exists under the new parent", pg.Slug)
		}
		return pageWriteError(err, pg.Slug)
	}
	c.w.WriteHeader(http.StatusCreated)
	return nil
}
