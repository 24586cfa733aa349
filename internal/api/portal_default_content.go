package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

// starterPages and starterSnippets are the default content, named as in
// Kong's example answer (pages /home, /about, /privacy; the guides
// sidebar snippets). All are public and published, so a new portal shows
// them at once.
var starterPages = []struct{ slug, title, content string }{
	{"home", "Home", "# Welcome\n\nThis developer portal documents our APIs.\n\n" +
		"- [About](/about): who we are and how to reach us\n- [Privacy](/privacy): what we keep about you\n\n" +
		"Create an account or log in to see the guides for signed-in developers."},
	{"about", "About", "# About\n\nTell developers who runs these APIs and how to reach you."},
	{"privacy", "Privacy", "# Privacy\n\nThis portal keeps your name and email address for your account, and a record of " +
		"each log-in (time, address and browser) for security."},
}

var starterSnippets = []struct{ name, title, content string }{
	{"guides-sidebar-navigation", "Guides navigation", "- [Home](/)\n- [About](/about)"},
	{"guides-sidebar-toc", "Guides contents", "On this page"},
}

func starterCustomization() store.PortalCustomization {
	str := func(s string) *string { return &s }
	return store.PortalCustomization{
		Theme:  &store.Theme{Name: str("mint_rocket"), Mode: str("light"), Colors: &store.ThemeColors{Primary: str("#1155cb")}},
		Layout: str("topnav"),
		Menu: &store.Menus{
			Main: []store.MenuItem{
				{Path: "/", Title: "Home", Visibility: store.VisibilityPublic},
				{Path: "/about", Title: "About", Visibility: store.VisibilityPublic},
			},
			FooterSections: []store.FooterMenuSection{
				{Title: "Legal", Items: []store.MenuItem{{Path: "/privacy", Title: "Privacy", Visibility: store.VisibilityPublic}}},
			},
		},
	}
}

// createDefaultContent adds the starter pages, snippets and customization
// that are missing; nothing existing is changed. It answers what it
// created.
func (s *server) createDefaultContent(c *call) error {
	p, err := s.portal(c)
	if err != nil {
		return err
	}
	if err := c.noBody(); err != nil {
		return err
	}
	pages, err := s.st.ListPortalPages(c.ctx(), p.ID)
	if err != nil {
		return err
	}
	taken := map[string]bool{}
	for _, pg := range pages {
		if pg.ParentID == "" {
			taken[strings.Trim(pg.Slug, "/")] = true
		}
	}
	out := struct {
		Pages    []string `json:"pages"`
		Snippets []string `json:"snippets"`
	}{Pages: []string{}, Snippets: []string{}}
	now := c.now()
	for _, sp := range starterPages {
		if taken[sp.slug] {
			continue
		}
		id, err := newID()
		if err != nil {
			return err
		}
		pg := store.PortalPage{ID: id, PortalID: p.ID, Slug: sp.slug, Title: sp.title, Content: sp.content,
			Visibility: store.VisibilityPublic, Status: store.StatusPublished, CreatedAt: now, UpdatedAt: now}
		if err := s.st.CreatePortalPage(c.ctx(), pg); err != nil && !apperr.Is(err, apperr.Conflict) {
			return err
		} else if err == nil {
			out.Pages = append(out.Pages, "/"+sp.slug)
		}
	}
	for _, ss := range starterSnippets {
		id, err := newID()
		if err != nil {
			return err
		}
		sn := store.PortalSnippet{ID: id, PortalID: p.ID, Name: ss.name, Title: ss.title, Content: ss.content,
			Visibility: store.VisibilityPublic, Status: store.StatusPublished, CreatedAt: now, UpdatedAt: now}
		err = s.st.CreatePortalSnippet(c.ctx(), sn)
		switch {
		case err == nil:
			out.Snippets = append(out.Snippets, ss.name)
		case !apperr.Is(err, apperr.Conflict): // a taken name is an existing snippet, kept
			return err
		}
	}
	if _, err := s.st.GetPortalCustomization(c.ctx(), p.ID); apperr.Is(err, apperr.NotFound) {
		if err := s.st.PutPortalCustomization(c.ctx(), p.ID, starterCustomization()); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	return c.json(http.StatusCreated, out)
}

// noBody checks that a request which takes no body has none: empty, or
// an empty JSON object as some clients send.
func (c *call) noBody() error {
	body, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, c.s.cfg.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return apperr.New(apperr.TooLarge, "Request body is larger than %d bytes", c.s.cfg.MaxBodyBytes)
	case err != nil:
		return apperr.New(apperr.Invalid, "Could not read the request body")
	}
	if t := bytes.TrimSpace(body); len(t) != 0 && string(t) != "{}" {
		return apperr.InvalidField("body", "body", "invalid", "must be empty: this operation takes no body")
	}
	return nil
}
