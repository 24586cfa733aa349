package api

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/netguard"
	"github.com/sigtrail/sigtrail/internal/store"
)

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
