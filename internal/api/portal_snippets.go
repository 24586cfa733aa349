package api

import (
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/content"
	"github.com/sigtrail/sigtrail/internal/store"
)

// snippetJSON is Kong's PortalSnippetResponse.
type snippetJSON struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Title       string    `json:"title"`
	Content     string    `json:"content"`
	Visibility  string    `json:"visibility"`
	Status      string    `json:"status"`
	Description *string   `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// snippetInfoJSON is Kong's PortalSnippetInfo, a list item.
type snippetInfoJSON struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Title       string    `json:"title"`
	Visibility  string    `json:"visibility"`
	Status      string    `json:"status"`
	Description *string   `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func toSnippetJSON(s store.PortalSnippet) snippetJSON {
	return snippetJSON{ID: s.ID, Name: s.Name, Title: s.Title, Content: s.Content, Visibility: s.Visibility, Status: s.Status,
		Description: optional(s.Description), CreatedAt: s.CreatedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC()}
}

func toSnippetInfo(s store.PortalSnippet) snippetInfoJSON {
	return snippetInfoJSON{ID: s.ID, Name: s.Name, Title: s.Title, Visibility: s.Visibility, Status: s.Status,
		Description: optional(s.Description), CreatedAt: s.CreatedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC()}
}

// snippetBody is Kong's Create/UpdatePortalSnippetRequest.
type snippetBody struct {
	Name        *string `json:"name"`
	Title       *string `json:"title"`
	Content     *string `json:"content"`
	Visibility  *string `json:"visibility"`
	Status      *string `json:"status"`
	Description *string `json:"description"`
}

func (b snippetBody) apply(sn *store.PortalSnippet) error {
	if b.Name != nil {
		sn.Name = strings.TrimSpace(*b.Name)
	}
	if b.Title != nil {
		sn.Title = strings.TrimSpace(*b.Title)
	}
	if b.Content != nil {
		sn.Content = *b.Content
		meta, _ := content.SplitFrontMatter(sn.Content)
		if meta.Title != "" {
			sn.Title = strings.TrimSpace(meta.Title)
		}
		if meta.Description != "" {
			sn.Description = strings.TrimSpace(meta.Description)
		}
	}
	if b.Description != nil && (b.Content == nil || sn.Description == "") {
		sn.Description = strings.TrimSpace(*b.Description)
	}
	if err := setVisibility(&sn.Visibility, b.Visibility, "visibility"); err != nil {
		return err
	}
	if err := setStatus(&sn.Status, b.Status); err != nil {
		return err
	}
	if err := checkText("name", sn.Name, maxTitleLen, true); err != nil {
		return err
	}
	if strings.IndexFunc(sn.Name, unicode.IsSpace) >= 0 {
		return apperr.InvalidField("body", "name", "invalid", "must not contain spaces")
	}
	if sn.Title == "" {
		sn.Title = sn.Name
	}
	if err := checkText("title", sn.Title, maxTitleLen, true); err != nil {
		return err
	}
	if err := checkText("description", sn.Description, maxPageDescription, false); err != nil {
		return err
	}
	if len(sn.Content) > maxContentLen {
		return apperr.InvalidField("body", "content", "invalid", "must be at most 1000000 characters")
	}
	return nil
}

func (s *server) snippet(c *call) (store.PortalSnippet, error) {
	p, err := s.portal(c)
	if err != nil {
		return store.PortalSnippet{}, err
	}
	id, err := c.pathUUID("snippetId")
	if err != nil {
		return store.PortalSnippet{}, err
	}
	sn, err := s.st.GetPortalSnippet(c.ctx(), p.ID, id)
	if apperr.Is(err, apperr.NotFound) {
		return sn, apperr.New(apperr.NotFound, "Snippet %s not found", id)
	}
	return sn, err
}

func snippetConflict(err error, name string) error {
	if apperr.Is(err, apperr.Conflict) {
		return apperr.New(apperr.Conflict, "A snippet named %q already exists", name)
	}
	return err
}

func (s *server) listSnippets(c *call) error {
	p, err := s.portal(c)
	if err != nil {
		return err
	}
	q := c.r.URL.Query()
	size, number, err := pageNumber(q)
	if err != nil {
		return err
	}
	if q.Get("sort") != "" {
		return apperr.InvalidField("query", "sort", "invalid", "is not supported; snippets are listed in creation order")
	}
	filters, err := parseFilters(q, "id", "name", "title", "visibility")
	if err != nil {
		return err
	}
	all, err := s.st.ListPortalSnippets(c.ctx(), p.ID)
	if err != nil {
		return err
	}
	var matched []store.PortalSnippet
	for _, sn := range all {
		if filters["id"].match(sn.ID) && filters["name"].match(sn.Name) && filters["title"].match(sn.Title) && filters["visibility"].match(sn.Visibility) {
			matched = append(matched, sn)
		}
	}
	return writePage(c, matched, size, number, toSnippetInfo)
}

func (s *server) createSnippet(c *call) error {
	p, err := s.portal(c)
	if err != nil {
		return err
	}
	var b snippetBody
	if err := c.decode(&b); err != nil {
		return err
	}
	if b.Name == nil {
		return apperr.InvalidField("body", "name", "required", "is required")
	}
	if b.Content == nil {
		return apperr.InvalidField("body", "content", "required", "is required")
	}
	id, err := newID()
	if err != nil {
		return err
	}
	now := c.now()
	sn := store.PortalSnippet{ID: id, PortalID: p.ID, Visibility: pageVisibility(p), Status: store.StatusUnpublished, CreatedAt: now, UpdatedAt: now}
	if err := b.apply(&sn); err != nil {
		return err
	}
	if err := s.st.CreatePortalSnippet(c.ctx(), sn); err != nil {
		return snippetConflict(err, sn.Name)
	}
	return c.json(http.StatusCreated, toSnippetJSON(sn))
}

func (s *server) getSnippet(c *call) error {
	sn, err := s.snippet(c)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, toSnippetJSON(sn))
}

func (s *server) updateSnippet(c *call) error {
	sn, err := s.snippet(c)
	if err != nil {
		return err
	}
	var b snippetBody
	if err := c.decode(&b); err != nil {
		return err
	}
	if err := b.apply(&sn); err != nil {
		return err
	}
	sn.UpdatedAt = c.now()
	if err := s.st.UpdatePortalSnippet(c.ctx(), sn); err != nil {
		return snippetConflict(err, sn.Name)
	}
	return c.json(http.StatusOK, toSnippetJSON(sn))
}

func (s *server) deleteSnippet(c *call) error {
	sn, err := s.snippet(c)
	if err != nil {
		return err
	}
	if err := s.st.DeletePortalSnippet(c.ctx(), sn.PortalID, sn.ID); err != nil {
		return err
	}
	return c.noContent()
}
