package api

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// portalRoutes serves /v3/portals.
func (s *server) portalRoutes() []route {
	const base, one = "/v3/portals", "/v3/portals/{portalId}"
	return []route{
		{method: http.MethodGet, path: base, resource: resPortals, action: audit.ActionList, roles: portalReaders(), handle: s.listPortals},
		{method: http.MethodPost, path: base, resource: resPortals, action: audit.ActionCreate, roles: portalWriters(), handle: s.createPortal},
		{method: http.MethodGet, path: one, resource: resPortals, action: audit.ActionRetrieve, roles: portalReaders(), handle: s.getPortal},
		{method: http.MethodPatch, path: one, resource: resPortals, action: audit.ActionEdit, roles: portalWriters(), handle: s.updatePortal},
		{method: http.MethodDelete, path: one, resource: resPortals, action: audit.ActionDelete, roles: portalWriters(), handle: s.deletePortal},
	}
}

// Portal visibilities.
const (
	visibilityPublic  = "public"
	visibilityPrivate = "private"
)

// portalJSON is Kong's Portal schema. Fields sigtrail does not implement
// (IP allow lists, application auth strategies, application approval) are
// shown at their defaults.
type portalJSON struct {
	ID                               string            `json:"id"`
	CreatedAt                        time.Time         `json:"created_at"`
	UpdatedAt                        time.Time         `json:"updated_at"`
	Name                             string            `json:"name"`
	DisplayName                      string            `json:"display_name"`
	Description                      *string           `json:"description"`
	AuthenticationEnabled            bool              `json:"authentication_enabled"`
	RBACEnabled                      bool              `json:"rbac_enabled"`
	SIPREnabled                      bool              `json:"sipr_enabled"`
	DefaultAPIVisibility             string            `json:"default_api_visibility"`
	DefaultPageVisibility            string            `json:"default_page_visibility"`
	DefaultApplicationAuthStrategyID *string           `json:"default_application_auth_strategy_id"`
	AutoApproveDevelopers            bool              `json:"auto_approve_developers"`
	AutoApproveApplications          bool              `json:"auto_approve_applications"`
	DefaultDomain                    string            `json:"default_domain"`
	CanonicalDomain                  string            `json:"canonical_domain"`
	Labels                           map[string]string `json:"labels"`
}

func toPortalJSON(p store.Portal) portalJSON {
	out := portalJSON{
		ID: p.ID, CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC(), Name: p.Name, DisplayName: p.DisplayName,
		AuthenticationEnabled: p.AuthenticationEnabled, RBACEnabled: p.RBACEnabled,
		DefaultAPIVisibility: p.DefaultAPIVisibility, DefaultPageVisibility: p.DefaultPageVisibility,
		AutoApproveDevelopers: p.AutoApproveDevelopers, DefaultDomain: p.DefaultDomain, CanonicalDomain: p.DefaultDomain,
		Labels: labelsJSON(p.Labels),
	}
	if p.Description != "" {
		d := p.Description
		out.Description = &d
	}
	if p.CustomDomain != "" && p.CustomDomainVerified {
		out.CanonicalDomain = p.CustomDomain // where the portal is served
	}
	return out
}

// portalBody is the create and update request: every field of Kong's
// schema is understood. Read-only ones are ignored, so a client may send
// back what it read; features sigtrail lacks accept only their defaults.
type portalBody struct {
	ID              *string `json:"id"`
	CreatedAt       *string `json:"created_at"`
	UpdatedAt       *string `json:"updated_at"`
	DefaultDomain   *string `json:"default_domain"`
	CanonicalDomain *string `json:"canonical_domain"`

	Name                  *string `json:"name"`
	DisplayName           *string `json:"display_name"`
	Description           *string `json:"description"`
	AuthenticationEnabled *bool   `json:"authentication_enabled"`
	RBACEnabled           *bool   `json:"rbac_enabled"`
	DefaultAPIVisibility  *string `json:"default_api_visibility"`
	DefaultPageVisibility *string `json:"default_page_visibility"`
	AutoApproveDevelopers *bool   `json:"auto_approve_developers"`

	SIPREnabled                                *bool        `json:"sipr_enabled"`
	DefaultApplicationAuthStrategyID           *string      `json:"default_application_auth_strategy_id"`
	AutoApproveApplications                    *bool        `json:"auto_approve_applications"`
	Labels                                     labelsUpdate `json:"labels"`
	NotificationsDeveloperPIIVisibilityEnabled *bool        `json:"notifications_developer_pii_visibility_enabled"`
}

func unsupported(field string) error {
	return apperr.InvalidField("body", field, "invalid", "is not supported by sigtrail; only its default is accepted")
}

// apply merges the body into p and validates the result.
func (b portalBody) apply(p *store.Portal) error {
	switch {
	case b.SIPREnabled != nil && *b.SIPREnabled:
		return unsupported("sipr_enabled")
	case b.DefaultApplicationAuthStrategyID != nil:
		return unsupported("default_application_auth_strategy_id")
	case b.AutoApproveApplications != nil && *b.AutoApproveApplications:
		return unsupported("auto_approve_applications")
	case b.NotificationsDeveloperPIIVisibilityEnabled != nil && *b.NotificationsDeveloperPIIVisibilityEnabled:
		return unsupported("notifications_developer_pii_visibility_enabled")
	}
	labels, err := b.Labels.apply(p.Labels)
	if err != nil {
		return err
	}
	p.Labels = labels
	if b.Name != nil {
		p.Name = strings.TrimSpace(*b.Name)
	}
	if b.DisplayName != nil {
		p.DisplayName = strings.TrimSpace(*b.DisplayName)
		if p.DisplayName == "" {
			return apperr.InvalidField("body", "display_name", "required", "cannot be blank")
		}
	}
	if b.Description != nil {
		p.Description = *b.Description
	}
	if b.AuthenticationEnabled != nil {
		p.AuthenticationEnabled = *b.AuthenticationEnabled
	}
	if b.RBACEnabled != nil {
		p.RBACEnabled = *b.RBACEnabled
	}
	if b.AutoApproveDevelopers != nil {
		p.AutoApproveDevelopers = *b.AutoApproveDevelopers
	}
	for _, v := range []struct {
		field string
		in    *string
		dst   *string
	}{{"default_api_visibility", b.DefaultAPIVisibility, &p.DefaultAPIVisibility}, {"default_page_visibility", b.DefaultPageVisibility, &p.DefaultPageVisibility}} {
		if v.in == nil {
			continue
		}
		if *v.in != visibilityPublic && *v.in != visibilityPrivate {
			return apperr.InvalidField("body", v.field, "invalid", "must be public or private")
		}
		*v.dst = *v.in
	}
	if err := checkText("name", p.Name, maxNameLen, true); err != nil {
		return err
	}
	if p.DisplayName == "" {
		p.DisplayName = p.Name
	}
	if err := checkText("display_name", p.DisplayName, maxNameLen, true); err != nil {
		return err
	}
	if p.RBACEnabled && !p.AuthenticationEnabled {
		return apperr.InvalidField("body", "rbac_enabled", "invalid", "requires authentication_enabled")
	}
	return checkText("description", p.Description, maxDescriptionLen, false)
}

// portal loads the portal named by {portalId} in the caller's org.
func (s *server) portal(c *call) (store.Portal, error) {
	id, err := c.pathUUID("portalId")
	if err != nil {
		return store.Portal{}, err
	}
	p, err := s.st.GetPortal(c.ctx(), c.org, id)
	if err == nil && p.OrgID != c.org {
		err = apperr.New(apperr.NotFound, "not found")
	}
	if apperr.Is(err, apperr.NotFound) {
		return store.Portal{}, apperr.New(apperr.NotFound, "Portal %s not found", id)
	}
	return p, err
}

func (s *server) getPortal(c *call) error {
	p, err := s.portal(c)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, toPortalJSON(p))
}

// allPortals lists every portal of the org matching f; portals per org are
// few, so number paging is done over the whole list.
func (s *server) allPortals(c *call, f store.NameFilter) ([]store.Portal, error) {
	var all []store.Portal
	p := store.Page{Size: maxPageSize}
	for {
		ps, more, err := s.st.ListPortals(c.ctx(), c.org, f, p)
		if err != nil {
			return nil, err
		}
		all = append(all, ps...)
		if !more || len(ps) == 0 {
			return all, nil
		}
		p.After = ps[len(ps)-1].ID
	}
}

func (s *server) listPortals(c *call) error {
	q := c.r.URL.Query()
	size, number, err := pageNumber(q)
	if err != nil {
		return err
	}
	if q.Get("sort") != "" {
		return apperr.InvalidField("query", "sort", "invalid", "is not supported; portals are listed in creation order")
	}
	filters, err := parseFilters(q, "name", "labels")
	if err != nil {
		return err
	}
	all, err := s.allPortals(c, store.NameFilter{Eq: filters["name"].Eq, Contains: filters["name"].Contains})
	if err != nil {
		return err
	}
	all = slices.DeleteFunc(all, func(p store.Portal) bool { return !matchLabels(filters["labels"], p.Labels) })
	return writePage(c, all, size, number, toPortalJSON)
}

func (s *server) createPortal(c *call) error {
	var b portalBody
	if err := c.decode(&b); err != nil {
		return err
	}
	if b.Name == nil {
		return apperr.InvalidField("body", "name", "required", "is required")
	}
	id, err := newID()
	if err != nil {
		return err
	}
	now := c.now()
	p := store.Portal{ID: id, OrgID: c.org, AuthenticationEnabled: true,
		DefaultAPIVisibility: visibilityPrivate, DefaultPageVisibility: visibilityPrivate, CreatedAt: now, UpdatedAt: now}
	if err := b.apply(&p); err != nil {
		return err
	}
	if err := s.nameFree(c, p.Name, ""); err != nil {
		return err
	}
	slug := domainLabel(p.Name)
	for attempt := 0; ; attempt++ {
		p.DefaultDomain = slug + "." + s.cfg.PortalDomainSuffix
		if attempt > 0 { // taken by a portal, or retired by another org
			p.DefaultDomain = slug + "-" + randomHex(3) + "." + s.cfg.PortalDomainSuffix
		}
		err = s.st.CreatePortal(c.ctx(), p)
		if !apperr.Is(err, apperr.Conflict) || attempt == 3 {
			break
		}
		if err := s.nameFree(c, p.Name, ""); err != nil {
			return err // the clash was the name, not the domain
		}
	}
	if apperr.Is(err, apperr.Conflict) {
		return apperr.New(apperr.Conflict, "A portal named %q already exists", p.Name)
	}
	if err != nil {
		return err
	}
	return c.json(http.StatusCreated, toPortalJSON(p))
}

// nameFree checks that no other portal of the org has the name.
func (s *server) nameFree(c *call, name, self string) error {
	ps, _, err := s.st.ListPortals(c.ctx(), c.org, store.NameFilter{Eq: name}, store.Page{Size: 2})
	if err != nil {
		return err
	}
	for _, p := range ps {
		if p.ID != self && p.Name == name {
			return apperr.New(apperr.Conflict, "A portal named %q already exists", name)
		}
	}
	return nil
}

// domainLabel turns a portal name into a DNS label: lower case letters,
// digits and single hyphens, at most 50 characters (room for a suffix).
func domainLabel(name string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			hyphen = false
		} else if !hyphen && b.Len() > 0 {
			b.WriteByte('-')
			hyphen = true
		}
		if b.Len() >= 50 {
			break
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		return "portal"
	}
	return out
}

func (s *server) updatePortal(c *call) error {
	p, err := s.portal(c)
	if err != nil {
		return err
	}
	var b portalBody
	if err := c.decode(&b); err != nil {
		return err
	}
	oldName := p.Name
	if err := b.apply(&p); err != nil {
		return err
	}
	if p.Name != oldName {
		if err := s.nameFree(c, p.Name, p.ID); err != nil {
			return err
		}
	}
	p.UpdatedAt = c.now()
	if err := s.st.UpdatePortal(c.ctx(), p); err != nil {
		if apperr.Is(err, apperr.Conflict) {
			return apperr.New(apperr.Conflict, "A portal named %q already exists", p.Name)
		}
		return err
	}
	return c.json(http.StatusOK, toPortalJSON(p))
}

func (s *server) deletePortal(c *call) error {
	p, err := s.portal(c)
	if err != nil {
		return err
	}
	if f := c.r.URL.Query().Get("force"); f != "" && f != "true" && f != "false" {
		return apperr.InvalidField("query", "force", "invalid", "must be true or false")
	}
	if err := s.st.DeletePortal(c.ctx(), c.org, p.ID); err != nil {
		return err
	}
	s.webhookChanged(store.StreamID(p.ID)) // its webhook went with it
	return c.noContent()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
