package api

import (
	"net/http"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

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
