package api

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/netguard"
	"github.com/sigtrail/sigtrail/internal/store"
)

// Resources of the portal authentication routes.
const (
	resPortalAuth = "portal-auth-settings"
	resPortalIdPs = "portal-identity-providers"
)

// portalAuthRoutes serves a portal's authentication settings and identity
// providers (Kong's "Portal Auth Settings").
func (s *server) portalAuthRoutes() []route {
	const settings = "/v3/portals/{portalId}/authentication-settings"
	const idps = "/v3/portals/{portalId}/identity-providers"
	const idp = idps + "/{id}"
	const maps = idp + "/team-group-mappings"
	const oneMap = maps + "/{mappingId}"
	return []route{
		{method: http.MethodGet, path: settings, resource: resPortalAuth, action: audit.ActionRetrieve, roles: portalReaders(), handle: s.getAuthSettings},
		{method: http.MethodPatch, path: settings, resource: resPortalAuth, action: audit.ActionEdit, roles: portalWriters(), handle: s.updateAuthSettings},
		{method: http.MethodGet, path: idps, resource: resPortalIdPs, action: audit.ActionList, roles: portalReaders(), handle: s.listIdPs},
		{method: http.MethodPost, path: idps, resource: resPortalIdPs, action: audit.ActionCreate, roles: portalWriters(), handle: s.createIdP},
		{method: http.MethodGet, path: idp, resource: resPortalIdPs, action: audit.ActionRetrieve, roles: portalReaders(), handle: s.getIdP},
		{method: http.MethodPatch, path: idp, resource: resPortalIdPs, action: audit.ActionEdit, roles: portalWriters(), handle: s.updateIdP},
		{method: http.MethodDelete, path: idp, resource: resPortalIdPs, action: audit.ActionDelete, roles: portalWriters(), handle: s.deleteIdP},
		{method: http.MethodGet, path: maps, resource: resPortalIdPs, action: audit.ActionList, roles: portalReaders(), handle: s.listMappings},
		{method: http.MethodPost, path: maps, resource: resPortalIdPs, action: audit.ActionCreate, roles: portalWriters(), handle: s.createMapping},
		{method: http.MethodGet, path: oneMap, resource: resPortalIdPs, action: audit.ActionRetrieve, roles: portalReaders(), handle: s.getMapping},
		{method: http.MethodDelete, path: oneMap, resource: resPortalIdPs, action: audit.ActionDelete, roles: portalWriters(), handle: s.deleteMapping},
	}
}

// claimMappingsJSON is Kong's OIDC claim mappings.
type claimMappingsJSON struct {
	Name   string `json:"name"`
	Email  string `json:"email"`
	Groups string `json:"groups"`
}

// oidcConfigJSON is Kong's OIDCIdentityProviderConfig as answered: the
// client secret is write-only.
type oidcConfigJSON struct {
	IssuerURL     string            `json:"issuer_url"`
	ClientID      string            `json:"client_id"`
	Scopes        []string          `json:"scopes"`
	ClaimMappings claimMappingsJSON `json:"claim_mappings"`
}

type idpJSON struct {
	ID        string         `json:"id"`
	Type      string         `json:"type"`
	Enabled   bool           `json:"enabled"`
	Config    oidcConfigJSON `json:"config"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

func toIdPJSON(p store.IdentityProvider) idpJSON {
	return idpJSON{ID: p.ID, Type: p.Type, Enabled: p.Enabled, CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC(),
		Config: oidcConfigJSON{IssuerURL: p.IssuerURL, ClientID: p.ClientID, Scopes: append([]string{}, p.Scopes...),
			ClaimMappings: claimMappingsJSON{Name: p.ClaimName, Email: p.ClaimEmail, Groups: p.ClaimGroups}}}
}

// idpConfigBody is the OIDC config of a create or update request. SAML's
// fields are recognised so that they get a clear answer.
type idpConfigBody struct {
	IssuerURL     *string   `json:"issuer_url"`
	ClientID      *string   `json:"client_id"`
	ClientSecret  *string   `json:"client_secret"`
	Scopes        *[]string `json:"scopes"`
	ClaimMappings *struct {
		Name   *string `json:"name"`
		Email  *string `json:"email"`
		Groups *string `json:"groups"`
	} `json:"claim_mappings"`
	IdPMetadataURL *string `json:"idp_metadata_url"`
	IdPMetadataXML *string `json:"idp_metadata_xml"`
}

type idpBody struct {
	Type    *string        `json:"type"`
	Enabled *bool          `json:"enabled"`
	Config  *idpConfigBody `json:"config"`
	// Read-only fields a client may send back.
	ID        *string `json:"id"`
	CreatedAt *string `json:"created_at"`
	UpdatedAt *string `json:"updated_at"`
}

var errSAML = apperr.InvalidField("body", "type", "invalid", "SAML identity providers are not supported by sigtrail; use OIDC")

// applyIdP merges an OIDC config into p and validates the result.
func (s *server) applyIdP(p *store.IdentityProvider, c *idpConfigBody) error {
	if c == nil {
		return nil
	}
	if c.IdPMetadataURL != nil || c.IdPMetadataXML != nil {
		return errSAML
	}
	if c.IssuerURL != nil {
		p.IssuerURL = strings.TrimSpace(*c.IssuerURL)
	}
	if c.ClientID != nil {
		p.ClientID = strings.TrimSpace(*c.ClientID)
	}
	if c.ClientSecret != nil {
		p.ClientSecret = *c.ClientSecret
	}
	if c.Scopes != nil {
		p.Scopes = nil
		for _, sc := range *c.Scopes {
			if sc == "" || strings.ContainsAny(sc, " \t\r\n\"\\") || len(sc) > 128 {
				return apperr.InvalidField("body", "config.scopes", "invalid", "each scope must be a non-empty token without spaces or quotes")
			}
			p.Scopes = append(p.Scopes, sc)
		}
	}
	if m := c.ClaimMappings; m != nil {
		for _, f := range []struct {
			name string
			in   *string
			dst  *string
		}{{"name", m.Name, &p.ClaimName}, {"email", m.Email, &p.ClaimEmail}, {"groups", m.Groups, &p.ClaimGroups}} {
			if f.in == nil {
				continue
			}
			v := strings.TrimSpace(*f.in)
			if v == "" || len(v) > 128 {
				return apperr.InvalidField("body", "config.claim_mappings."+f.name, "invalid", "must be a claim name of 1 to 128 characters")
			}
			*f.dst = v
		}
	}
	return s.checkIdP(*p)
}

func (s *server) checkIdP(p store.IdentityProvider) error {
	if p.IssuerURL == "" {
		return apperr.InvalidField("body", "config.issuer_url", "required", "is required")
	}
	if err := checkIssuer(p.IssuerURL, s.cfg.InsecureDestinations); err != nil {
		return apperr.InvalidField("body", "config.issuer_url", "invalid", err.Error())
	}
	if p.ClientID == "" || len(p.ClientID) > 255 {
		return apperr.InvalidField("body", "config.client_id", "required", "is required (at most 255 characters)")
	}
	if len(p.ClientSecret) > 1024 {
		return apperr.InvalidField("body", "config.client_secret", "invalid", "must be at most 1024 characters")
	}
	if !contains(p.Scopes, "openid") {
		return apperr.InvalidField("body", "config.scopes", "invalid", "must include openid")
	}
	return nil
}

// checkIssuer holds an issuer to the rules of destinations: https and a
// public host, unless the development flag that lifts those rules is set.
// Addresses names resolve to are checked again at every fetch.
func checkIssuer(issuer string, insecure bool) error {
	u, err := url.Parse(issuer)
	if err != nil || !u.IsAbs() || u.Hostname() == "" {
		return errText("must be an absolute URL with a host")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return errText("must not carry credentials, a query or a fragment")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && insecure:
	default:
		return errText("must use https")
	}
	if insecure {
		return nil
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return errText("must not be a loopback host")
	}
	if reason := netguard.CheckHost(host); reason != "" {
		return errText(reason)
	}
	return nil
}

type errText string

func (e errText) Error() string { return string(e) }

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// newOIDCProvider is an OIDC provider with Kong's defaults.
func newOIDCProvider(p store.Portal, now time.Time) (store.IdentityProvider, error) {
	id, err := newID()
	return store.IdentityProvider{ID: id, PortalID: p.ID, OrgID: p.OrgID, Type: store.IdPTypeOIDC,
		Scopes: []string{"email", "openid", "profile"}, ClaimName: "name", ClaimEmail: "email", ClaimGroups: "groups",
		CreatedAt: now, UpdatedAt: now}, err
}

func (s *server) idp(c *call) (store.Portal, store.IdentityProvider, error) {
	p, err := s.portal(c)
	if err != nil {
		return p, store.IdentityProvider{}, err
	}
	id, err := c.pathUUID("id")
	if err != nil {
		return p, store.IdentityProvider{}, err
	}
	i, err := s.st.GetIdentityProvider(c.ctx(), p.ID, id)
	if apperr.Is(err, apperr.NotFound) {
		return p, i, apperr.New(apperr.NotFound, "Identity provider %s not found", id)
	}
	return p, i, err
}

func (s *server) listIdPs(c *call) error {
	p, err := s.portal(c)
	if err != nil {
		return err
	}
	filters, err := parseFilters(c.r.URL.Query(), "type")
	if err != nil {
		return err
	}
	all, err := s.st.ListIdentityProviders(c.ctx(), p.ID)
	if err != nil {
		return err
	}
	out := []idpJSON{}
	for _, i := range all {
		if filters["type"].match(i.Type) {
			out = append(out, toIdPJSON(i))
		}
	}
	return c.json(http.StatusOK, out)
}

func (s *server) createIdP(c *call) error {
	p, err := s.portal(c)
	if err != nil {
		return err
	}
	var b idpBody
	if err := c.decode(&b); err != nil {
		return err
	}
	if b.Type != nil && *b.Type == store.IdPTypeSAML {
		return errSAML
	}
	if b.Type != nil && *b.Type != store.IdPTypeOIDC {
		return apperr.InvalidField("body", "type", "invalid", "must be oidc")
	}
	if b.Config == nil {
		return apperr.InvalidField("body", "config", "required", "is required")
	}
	i, err := newOIDCProvider(p, c.now())
	if err != nil {
		return err
	}
	if b.Enabled != nil {
		i.Enabled = *b.Enabled
	}
	if err := s.applyIdP(&i, b.Config); err != nil {
		return err
	}
	if err := s.st.CreateIdentityProvider(c.ctx(), i); err != nil {
		if apperr.Is(err, apperr.Conflict) {
			return apperr.New(apperr.Conflict, "The portal has an OIDC identity provider already")
		}
		return err
	}
	return c.json(http.StatusCreated, toIdPJSON(i))
}

func (s *server) getIdP(c *call) error {
	_, i, err := s.idp(c)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, toIdPJSON(i))
}

// Bodies are read after the portal but before the path's other objects are
// looked up, so a body too large is a 413 whatever the path names.

func (s *server) updateIdP(c *call) error {
	if _, err := s.portal(c); err != nil { // another org's portal is a 404 before any body check
		return err
	}
	var b idpBody
	if err := c.decode(&b); err != nil {
		return err
	}
	_, i, err := s.idp(c)
	if err != nil {
		return err
	}
	if b.Type != nil && *b.Type != i.Type {
		return apperr.InvalidField("body", "type", "invalid", "cannot be changed")
	}
	if b.Enabled != nil {
		i.Enabled = *b.Enabled
	}
	if err := s.applyIdP(&i, b.Config); err != nil {
		return err
	}
	i.UpdatedAt = c.now()
	if err := s.st.UpdateIdentityProvider(c.ctx(), i); err != nil {
		return err
	}
	return c.json(http.StatusOK, toIdPJSON(i))
}

func (s *server) deleteIdP(c *call) error {
	p, i, err := s.idp(c)
	if err != nil {
		return err
	}
	if err := s.st.DeleteIdentityProvider(c.ctx(), p.ID, i.ID); err != nil {
		return err
	}
	return c.noContent()
}

// authSettingsJSON is Kong's PortalAuthenticationSettingsResponse, plus
// sso_sign_up_enabled, sigtrail's own: whether a first SSO log-in creates
// the developer.
type authSettingsJSON struct {
	BasicAuthEnabled       bool            `json:"basic_auth_enabled"`
	OIDCAuthEnabled        bool            `json:"oidc_auth_enabled"`
	SAMLAuthEnabled        bool            `json:"saml_auth_enabled"`
	OIDCTeamMappingEnabled bool            `json:"oidc_team_mapping_enabled"`
	IDPMappingEnabled      bool            `json:"idp_mapping_enabled"`
	KonnectMappingEnabled  bool            `json:"konnect_mapping_enabled"`
	SSOSignUpEnabled       bool            `json:"sso_sign_up_enabled"`
	OIDCConfig             *oidcConfigKong `json:"oidc_config,omitempty"`
}

// oidcConfigKong is the deprecated oidc_config of the settings answer.
type oidcConfigKong struct {
	Issuer        string            `json:"issuer"`
	ClientID      string            `json:"client_id"`
	Scopes        []string          `json:"scopes"`
	ClaimMappings claimMappingsJSON `json:"claim_mappings"`
}

func (s *server) authSettingsJSON(c *call, p store.Portal) (authSettingsJSON, error) {
	a, err := s.st.GetAuthSettings(c.ctx(), p.ID)
	if err != nil {
		return authSettingsJSON{}, err
	}
	out := authSettingsJSON{BasicAuthEnabled: a.BasicAuthEnabled, OIDCTeamMappingEnabled: a.IDPMappingEnabled,
		IDPMappingEnabled: a.IDPMappingEnabled, KonnectMappingEnabled: a.KonnectMappingEnabled, SSOSignUpEnabled: a.SSOSignUpEnabled}
	i, ok, err := s.oidcProvider(c, p)
	if err != nil {
		return out, err
	}
	if ok {
		out.OIDCAuthEnabled = i.Enabled
		out.OIDCConfig = &oidcConfigKong{Issuer: i.IssuerURL, ClientID: i.ClientID, Scopes: append([]string{}, i.Scopes...),
			ClaimMappings: claimMappingsJSON{Name: i.ClaimName, Email: i.ClaimEmail, Groups: i.ClaimGroups}}
	}
	return out, nil
}

// oidcProvider returns the portal's OIDC provider, if it has one.
func (s *server) oidcProvider(c *call, p store.Portal) (store.IdentityProvider, bool, error) {
	all, err := s.st.ListIdentityProviders(c.ctx(), p.ID)
	if err != nil {
		return store.IdentityProvider{}, false, err
	}
	for _, i := range all {
		if i.Type == store.IdPTypeOIDC {
			return i, true, nil
		}
	}
	return store.IdentityProvider{}, false, nil
}

func (s *server) getAuthSettings(c *call) error {
	p, err := s.portal(c)
	if err != nil {
		return err
	}
	out, err := s.authSettingsJSON(c, p)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, out)
}

// authSettingsBody is Kong's PortalAuthenticationSettingsUpdateRequest; its
// deprecated oidc_* fields configure the portal's OIDC provider, as Kong's
// older clients expect.
type authSettingsBody struct {
	BasicAuthEnabled       *bool     `json:"basic_auth_enabled"`
	OIDCAuthEnabled        *bool     `json:"oidc_auth_enabled"`
	SAMLAuthEnabled        *bool     `json:"saml_auth_enabled"`
	OIDCTeamMappingEnabled *bool     `json:"oidc_team_mapping_enabled"`
	IDPMappingEnabled      *bool     `json:"idp_mapping_enabled"`
	KonnectMappingEnabled  *bool     `json:"konnect_mapping_enabled"`
	SSOSignUpEnabled       *bool     `json:"sso_sign_up_enabled"`
	OIDCIssuer             *string   `json:"oidc_issuer"`
	OIDCClientID           *string   `json:"oidc_client_id"`
	OIDCClientSecret       *string   `json:"oidc_client_secret"`
	OIDCScopes             *[]string `json:"oidc_scopes"`
	OIDCClaimMappings      *struct {
		Name   *string `json:"name"`
		Email  *string `json:"email"`
		Groups *string `json:"groups"`
	} `json:"oidc_claim_mappings"`
	// Read-only: oidc_config may be sent back as read.
	OIDCConfig any `json:"oidc_config"`
}

func (s *server) updateAuthSettings(c *call) error {
	p, err := s.portal(c)
	if err != nil {
		return err
	}
	var b authSettingsBody
	if err := c.decode(&b); err != nil {
		return err
	}
	if b.SAMLAuthEnabled != nil && *b.SAMLAuthEnabled {
		return apperr.InvalidField("body", "saml_auth_enabled", "invalid", "SAML is not supported by sigtrail; use OIDC")
	}
	a, err := s.st.GetAuthSettings(c.ctx(), p.ID)
	if err != nil {
		return err
	}
	set := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	set(&a.BasicAuthEnabled, b.BasicAuthEnabled)
	set(&a.IDPMappingEnabled, b.OIDCTeamMappingEnabled)
	set(&a.IDPMappingEnabled, b.IDPMappingEnabled)
	set(&a.KonnectMappingEnabled, b.KonnectMappingEnabled)
	set(&a.SSOSignUpEnabled, b.SSOSignUpEnabled)
	if b.OIDCTeamMappingEnabled != nil && b.IDPMappingEnabled != nil && *b.OIDCTeamMappingEnabled != *b.IDPMappingEnabled {
		return apperr.InvalidField("body", "idp_mapping_enabled", "invalid", "contradicts oidc_team_mapping_enabled, which it replaces")
	}
	if a.IDPMappingEnabled && a.KonnectMappingEnabled {
		if b.KonnectMappingEnabled != nil && *b.KonnectMappingEnabled {
			return apperr.InvalidField("body", "konnect_mapping_enabled", "invalid", "cannot be on with idp_mapping_enabled: teams come from the IdP or from admins")
		}
		a.KonnectMappingEnabled = false // turning IdP mapping on turns admin mapping off
	}

	// The deprecated OIDC fields edit (or create) the OIDC provider.
	i, had, err := s.oidcProvider(c, p)
	if err != nil {
		return err
	}
	cfg := &idpConfigBody{IssuerURL: b.OIDCIssuer, ClientID: b.OIDCClientID, ClientSecret: b.OIDCClientSecret, Scopes: b.OIDCScopes}
	if m := b.OIDCClaimMappings; m != nil {
		cfg.ClaimMappings = &struct {
			Name   *string `json:"name"`
			Email  *string `json:"email"`
			Groups *string `json:"groups"`
		}{m.Name, m.Email, m.Groups}
	}
	touched := b.OIDCIssuer != nil || b.OIDCClientID != nil || b.OIDCClientSecret != nil || b.OIDCScopes != nil || b.OIDCClaimMappings != nil || b.OIDCAuthEnabled != nil
	if touched && !had {
		if b.OIDCAuthEnabled != nil && !*b.OIDCAuthEnabled && b.OIDCIssuer == nil {
			touched = false // turning off what does not exist
		} else if i, err = newOIDCProvider(p, c.now()); err != nil {
			return err
		}
	}
	if touched {
		if b.OIDCAuthEnabled != nil {
			i.Enabled = *b.OIDCAuthEnabled
		}
		if err := s.applyIdP(&i, cfg); err != nil {
			if ae, ok := err.(*apperr.Error); ok && !had && b.OIDCIssuer == nil && len(ae.Params) > 0 && ae.Params[0].Field == "config.issuer_url" {
				return apperr.InvalidField("body", "oidc_auth_enabled", "invalid", "needs an identity provider: create one or give oidc_issuer and oidc_client_id")
			}
			return err
		}
		i.UpdatedAt = c.now()
		if had {
			err = s.st.UpdateIdentityProvider(c.ctx(), i)
		} else {
			err = s.st.CreateIdentityProvider(c.ctx(), i)
		}
		if err != nil {
			return err
		}
	}
	a.UpdatedAt = c.now()
	if err := s.st.PutAuthSettings(c.ctx(), a); err != nil {
		return err
	}
	out, err := s.authSettingsJSON(c, p)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, out)
}

type mappingJSON struct {
	ID        string    `json:"id"`
	TeamID    string    `json:"team_id"`
	Group     string    `json:"group"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toMappingJSON(m store.TeamGroupMapping) mappingJSON {
	return mappingJSON{ID: m.ID, TeamID: m.TeamID, Group: m.Group, CreatedAt: m.CreatedAt.UTC(), UpdatedAt: m.UpdatedAt.UTC()}
}

func (s *server) listMappings(c *call) error {
	p, i, err := s.idp(c)
	if err != nil {
		return err
	}
	q := c.r.URL.Query()
	pg, err := cursorPage(q)
	if err != nil {
		return err
	}
	filters, err := parseFilters(q, "team_id", "group")
	if err != nil {
		return err
	}
	all, err := s.st.ListTeamGroupMappings(c.ctx(), p.ID, i.ID)
	if err != nil {
		return err
	}
	var kept []store.TeamGroupMapping
	for _, m := range all {
		if filters["team_id"].match(m.TeamID) && filters["group"].match(m.Group) {
			kept = append(kept, m)
		}
	}
	page, more := cursorSlice(kept, pg, func(m store.TeamGroupMapping) string { return m.ID })
	data := make([]mappingJSON, 0, len(page))
	for _, m := range page {
		data = append(data, toMappingJSON(m))
	}
	first, last := "", ""
	if len(page) > 0 {
		first, last = page[0].ID, page[len(page)-1].ID
	}
	meta := cursorLinks(c.r.URL.Path, q, pg, first, last, more)
	return c.json(http.StatusOK, map[string]any{"data": data, "meta": map[string]any{"page": meta}})
}

// cursorSlice pages an in-memory list (a portal's mappings are few) as
// the store pages its tables: after or before an item's ID.
func cursorSlice[T any](items []T, p store.Page, id func(T) string) ([]T, bool) {
	index := func(want string) int {
		for i, it := range items {
			if id(it) == want {
				return i
			}
		}
		return -1
	}
	switch {
	case p.Before != "":
		end := index(p.Before)
		if end < 0 {
			return []T{}, false
		}
		start := max(0, end-p.Size)
		return items[start:end], start > 0
	default:
		start := 0
		if p.After != "" {
			if start = index(p.After) + 1; start == 0 {
				return []T{}, false
			}
		}
		end := min(len(items), start+p.Size)
		return items[start:end], end < len(items)
	}
}

type mappingBody struct {
	TeamID *string `json:"team_id"`
	Group  *string `json:"group"`
}

func (s *server) createMapping(c *call) error {
	if _, err := s.portal(c); err != nil { // another org's portal is a 404 before any body check
		return err
	}
	var b mappingBody
	if err := c.decode(&b); err != nil {
		return err
	}
	p, i, err := s.idp(c)
	if err != nil {
		return err
	}
	if b.TeamID == nil {
		return apperr.InvalidField("body", "team_id", "required", "is required")
	}
	teamID, ok := canonicalUUID(*b.TeamID)
	if !ok {
		return apperr.InvalidField("body", "team_id", "is_uuid", "must be a UUID")
	}
	if b.Group == nil || strings.TrimSpace(*b.Group) == "" || len(*b.Group) > 255 {
		return apperr.InvalidField("body", "group", "required", "is required (at most 255 characters)")
	}
	if _, err := s.st.GetTeam(c.ctx(), p.ID, teamID); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return apperr.InvalidField("body", "team_id", "invalid", "is not a team of this portal")
		}
		return err
	}
	id, err := newID()
	if err != nil {
		return err
	}
	now := c.now()
	m := store.TeamGroupMapping{ID: id, PortalID: p.ID, IdPID: i.ID, TeamID: teamID, Group: *b.Group, CreatedAt: now, UpdatedAt: now}
	if err := s.st.CreateTeamGroupMapping(c.ctx(), m); err != nil {
		if apperr.Is(err, apperr.Conflict) {
			return apperr.New(apperr.Conflict, "The group %q is mapped to that team already", m.Group)
		}
		return err
	}
	return c.json(http.StatusCreated, toMappingJSON(m))
}

func (s *server) mapping(c *call) (store.TeamGroupMapping, error) {
	p, i, err := s.idp(c)
	if err != nil {
		return store.TeamGroupMapping{}, err
	}
	id, err := c.pathUUID("mappingId")
	if err != nil {
		return store.TeamGroupMapping{}, err
	}
	m, err := s.st.GetTeamGroupMapping(c.ctx(), p.ID, i.ID, id)
	if apperr.Is(err, apperr.NotFound) {
		return m, apperr.New(apperr.NotFound, "Team group mapping %s not found", id)
	}
	return m, err
}

func (s *server) getMapping(c *call) error {
	m, err := s.mapping(c)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, toMappingJSON(m))
}

func (s *server) deleteMapping(c *call) error {
	m, err := s.mapping(c)
	if err != nil {
		return err
	}
	if err := s.st.DeleteTeamGroupMapping(c.ctx(), m.PortalID, m.IdPID, m.ID); err != nil {
		return err
	}
	return c.noContent()
}
