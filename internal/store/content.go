package store

import (
	"context"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
)

// PortalContent keeps a portal's pages, snippets and customization
// (Kong's portal-management-v3 content). Every call names the portal; a
// row of another portal is NotFound.
type PortalContent interface {
	// CreatePortalPage stores a page last among its siblings (Position is
	// set by the store). NotFound: unknown portal or parent; Conflict: the
	// slug is taken among its siblings.
	CreatePortalPage(ctx context.Context, p PortalPage) error
	GetPortalPage(ctx context.Context, portalID, id string) (PortalPage, error)
	// ListPortalPages returns every page of the portal, ordered by parent
	// then position (PageTree builds the tree).
	ListPortalPages(ctx context.Context, portalID string) ([]PortalPage, error)
	// UpdatePortalPage replaces a page's fields. A new parent puts it last
	// among its new siblings; a parent that is the page or one of its
	// descendants is Invalid; a taken slug is a Conflict.
	UpdatePortalPage(ctx context.Context, p PortalPage) error
	// MovePortalPage puts a page under parentID ("" for the top level) at
	// index among its siblings (negative counts from the end, -1 last; an
	// index past either end is clamped), renumbering the siblings.
	MovePortalPage(ctx context.Context, portalID, id, parentID string, index int) error
	// DeletePortalPage deletes a page with all its descendants.
	DeletePortalPage(ctx context.Context, portalID, id string) error

	CreatePortalSnippet(ctx context.Context, s PortalSnippet) error // Conflict on a taken name in the portal
	GetPortalSnippet(ctx context.Context, portalID, id string) (PortalSnippet, error)
	ListPortalSnippets(ctx context.Context, portalID string) ([]PortalSnippet, error) // in creation order
	UpdatePortalSnippet(ctx context.Context, s PortalSnippet) error
	DeletePortalSnippet(ctx context.Context, portalID, id string) error

	// GetPortalCustomization is NotFound until one is put.
	GetPortalCustomization(ctx context.Context, portalID string) (PortalCustomization, error)
	PutPortalCustomization(ctx context.Context, portalID string, c PortalCustomization) error
}

// Page and snippet visibilities and statuses, as Kong's schema names them.
const (
	VisibilityPublic  = "public"
	VisibilityPrivate = "private" // signed-in developers only
	StatusPublished   = "published"
	StatusUnpublished = "unpublished"
)

// PortalPage is one page of a portal's content; pages form a tree.
type PortalPage struct {
	ID          string
	PortalID    string
	ParentID    string // "" at the top level
	Position    int    // 0-based order among its siblings
	Slug        string // unique among its siblings
	Title       string
	Description string
	Content     string // Markdown
	Visibility  string // VisibilityPublic | VisibilityPrivate
	Status      string // StatusPublished | StatusUnpublished
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// PortalSnippet is a named piece of Markdown a portal's pages reuse.
type PortalSnippet struct {
	ID          string
	PortalID    string
	Name        string // unique in the portal
	Title       string
	Description string
	Content     string
	Visibility  string
	Status      string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// PortalCustomization is Kong's PortalCustomizationV3: a portal's theme,
// layout and menus. Unset fields are nil, so a merge can tell them from
// empty ones. The JSON names are Kong's; backends store it as JSON.
type PortalCustomization struct {
	Theme        *Theme        `json:"theme,omitempty"`
	Layout       *string       `json:"layout,omitempty"`
	CSS          *string       `json:"css,omitempty"`
	Menu         *Menus        `json:"menu,omitempty"`
	SpecRenderer *SpecRenderer `json:"spec_renderer,omitempty"`
	Robots       *string       `json:"robots,omitempty"`
}

// Theme is a portal's look.
type Theme struct {
	Name   *string      `json:"name,omitempty"`
	Mode   *string      `json:"mode,omitempty"` // light | dark | system
	Colors *ThemeColors `json:"colors,omitempty"`
}

// ThemeColors are a theme's colours as #rgb or #rrggbb.
type ThemeColors struct {
	Primary *string `json:"primary,omitempty"`
}

// Menus are a portal's navigation menus.
type Menus struct {
	Main           []MenuItem          `json:"main,omitempty"`
	FooterSections []FooterMenuSection `json:"footer_sections,omitempty"`
	FooterBottom   []MenuItem          `json:"footer_bottom,omitempty"`
}

// MenuItem is one link of a menu.
type MenuItem struct {
	Path       string `json:"path"`
	Title      string `json:"title"`
	Visibility string `json:"visibility"` // public | private (signed-in only)
	External   bool   `json:"external"`
}

// FooterMenuSection is a titled group of footer links.
type FooterMenuSection struct {
	Title string     `json:"title"`
	Items []MenuItem `json:"items"`
}

// SpecRenderer are the API-spec viewer switches; sigtrail stores them for
// Kong's tools but shows no API specs.
type SpecRenderer struct {
	TryItUI               *bool `json:"try_it_ui,omitempty"`
	TryItInsomnia         *bool `json:"try_it_insomnia,omitempty"`
	InfiniteScroll        *bool `json:"infinite_scroll,omitempty"`
	ShowSchemas           *bool `json:"show_schemas,omitempty"`
	HideInternal          *bool `json:"hide_internal,omitempty"`
	HideDeprecated        *bool `json:"hide_deprecated,omitempty"`
	AllowCustomServerURLs *bool `json:"allow_custom_server_urls,omitempty"`
}

// PageOrder returns the sibling order after moving id to index among
// siblings (which may or may not hold id): negative indexes count from
// the end (-1 last) and indexes past either end are clamped. Both
// backends renumber positions with it.
func PageOrder(siblings []string, id string, index int) []string {
	out := make([]string, 0, len(siblings)+1)
	for _, s := range siblings {
		if s != id {
			out = append(out, s)
		}
	}
	if index < 0 {
		index += len(out) + 1
	}
	index = max(0, min(index, len(out)))
	out = append(out, "")
	copy(out[index+1:], out[index:])
	out[index] = id
	return out
}

// CheckPageParent refuses a parent that is the page itself or one of its
// descendants, which would cut the page off the tree. parents maps each
// page of the portal to its parent ("" at the top).
func CheckPageParent(parents map[string]string, id, parent string) error {
	for p, n := parent, 0; p != ""; p, n = parents[p], n+1 {
		if p == id || n > len(parents) {
			return apperr.InvalidField("body", "parent_page_id", "invalid", "must not be the page itself or one of its descendants")
		}
	}
	return nil
}

// Descendants returns id and every page below it, given each page's parent.
func Descendants(parents map[string]string, id string) []string {
	children := map[string][]string{}
	for c, p := range parents {
		children[p] = append(children[p], c)
	}
	out := []string{id}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}
