package store

import (
	"context"
	"time"
)

// AuthSettings is how developers log in to one portal (Kong's portal
// authentication settings). Whether OIDC is on is not kept here: it is
// whether the portal has an enabled OIDC identity provider.
type AuthSettings struct {
	PortalID string
	// BasicAuthEnabled allows log-in with email and password.
	BasicAuthEnabled bool
	// IDPMappingEnabled: at each SSO log-in the IdP's groups (through the
	// team-group mappings) decide the developer's teams.
	IDPMappingEnabled bool
	// KonnectMappingEnabled: admins assign teams through the API.
	KonnectMappingEnabled bool
	// SSOSignUpEnabled lets a first SSO log-in create the developer; off,
	// only developers who already have an account may log in by SSO.
	SSOSignUpEnabled bool
	UpdatedAt        time.Time
}

// DefaultAuthSettings are the settings of a portal never configured:
// email and password, admins assign teams, SSO may sign developers up.
func DefaultAuthSettings(portalID string) AuthSettings {
	return AuthSettings{PortalID: portalID, BasicAuthEnabled: true, KonnectMappingEnabled: true, SSOSignUpEnabled: true}
}

// Identity provider types.
const (
	IdPTypeOIDC = "oidc"
	IdPTypeSAML = "saml"
)

// IdentityProvider is a portal's single sign-on provider. A portal has at
// most one of each type.
type IdentityProvider struct {
	ID, PortalID, OrgID string
	Type                string
	Enabled             bool
	IssuerURL           string
	ClientID            string
	// ClientSecret is write-only in the API and sealed at rest when the
	// operator gave a key file.
	ClientSecret string
	Scopes       []string
	// Claim names the developer's name, email and groups are read from.
	ClaimName, ClaimEmail, ClaimGroups string
	CreatedAt, UpdatedAt               time.Time
}

// TeamGroupMapping maps an IdP group to a portal team.
type TeamGroupMapping struct {
	ID, PortalID, IdPID, TeamID string
	Group                       string
	CreatedAt, UpdatedAt        time.Time
}

// Team is a group of a portal's developers.
type Team struct {
	ID, PortalID, OrgID  string
	Name, Description    string
	CanOwnApplications   bool
	CreatedAt, UpdatedAt time.Time
}

// PortalAuth keeps portals' authentication settings, identity providers
// and their team-group mappings. Everything is scoped by portal: an ID of
// another portal is NotFound.
type PortalAuth interface {
	// GetAuthSettings returns DefaultAuthSettings for a portal never
	// configured.
	GetAuthSettings(ctx context.Context, portalID string) (AuthSettings, error)
	PutAuthSettings(ctx context.Context, a AuthSettings) error // NotFound: unknown portal

	CreateIdentityProvider(ctx context.Context, p IdentityProvider) error // Conflict: the portal has one of the type
	GetIdentityProvider(ctx context.Context, portalID, id string) (IdentityProvider, error)
	ListIdentityProviders(ctx context.Context, portalID string) ([]IdentityProvider, error) // creation order
	UpdateIdentityProvider(ctx context.Context, p IdentityProvider) error
	DeleteIdentityProvider(ctx context.Context, portalID, id string) error // with its mappings

	// CreateTeamGroupMapping is a Conflict for a (team, group) the provider
	// maps already, NotFound for a team or provider not of the portal.
	CreateTeamGroupMapping(ctx context.Context, m TeamGroupMapping) error
	GetTeamGroupMapping(ctx context.Context, portalID, idpID, id string) (TeamGroupMapping, error)
	ListTeamGroupMappings(ctx context.Context, portalID, idpID string) ([]TeamGroupMapping, error) // creation order
	DeleteTeamGroupMapping(ctx context.Context, portalID, idpID, id string) error
}

// Teams keeps portal teams and their members.
type Teams interface {
	CreateTeam(ctx context.Context, t Team) error // Conflict: a taken name in the portal
	GetTeam(ctx context.Context, portalID, id string) (Team, error)
	ListTeams(ctx context.Context, portalID string) ([]Team, error) // creation order
	UpdateTeam(ctx context.Context, t Team) error                   // Conflict: a taken name
	DeleteTeam(ctx context.Context, portalID, id string) error      // with its memberships and mappings

	// AddTeamDeveloper is a Conflict when the developer is a member
	// already, NotFound when the team or developer is not of the portal.
	AddTeamDeveloper(ctx context.Context, portalID, teamID, developerID string, at time.Time) error
	RemoveTeamDeveloper(ctx context.Context, portalID, teamID, developerID string) error  // NotFound: not a member
	ListTeamDevelopers(ctx context.Context, portalID, teamID string) ([]Developer, error) // sign-up order
	ListDeveloperTeams(ctx context.Context, portalID, developerID string) ([]Team, error) // creation order
	// SetDeveloperTeams makes teamIDs (of the portal; others are ignored)
	// the developer's only teams, in one transaction.
	SetDeveloperTeams(ctx context.Context, portalID, developerID string, teamIDs []string, at time.Time) error
}
