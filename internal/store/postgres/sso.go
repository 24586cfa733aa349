package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// rb numbers the ? placeholders of a query ($1, $2, ...), so the SSO and
// team queries read as the SQLite backend's do.
func rb(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// GetAuthSettings returns the portal's settings, the defaults when it has
// none stored.
func (s *Store) GetAuthSettings(ctx context.Context, portalID string) (store.AuthSettings, error) {
	a, err := getOne(s, ctx, "get auth settings", "auth settings", rb(`SELECT portal_id, basic_auth_enabled, idp_mapping_enabled,
		konnect_mapping_enabled, sso_sign_up_enabled, updated_at FROM portal_auth_settings WHERE portal_id = ?`),
		func(sc scanner) (store.AuthSettings, error) {
			var a store.AuthSettings
			var updated int64
			err := sc.Scan(&a.PortalID, &a.BasicAuthEnabled, &a.IDPMappingEnabled, &a.KonnectMappingEnabled, &a.SSOSignUpEnabled, &updated)
			a.UpdatedAt = sqlcodec.FromNS(updated)
			return a, err
		}, portalID)
	if apperr.Is(err, apperr.NotFound) {
		return store.DefaultAuthSettings(portalID), nil
	}
	return a, err
}

// PutAuthSettings stores the portal's settings.
func (s *Store) PutAuthSettings(ctx context.Context, a store.AuthSettings) error {
	return s.write(ctx, "put auth settings", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, rb(`INSERT INTO portal_auth_settings (portal_id, basic_auth_enabled, idp_mapping_enabled,
			konnect_mapping_enabled, sso_sign_up_enabled, updated_at) VALUES (?,?,?,?,?,?)
			ON CONFLICT (portal_id) DO UPDATE SET basic_auth_enabled = excluded.basic_auth_enabled,
			idp_mapping_enabled = excluded.idp_mapping_enabled, konnect_mapping_enabled = excluded.konnect_mapping_enabled,
			sso_sign_up_enabled = excluded.sso_sign_up_enabled, updated_at = excluded.updated_at`),
			a.PortalID, a.BasicAuthEnabled, a.IDPMappingEnabled, a.KonnectMappingEnabled, a.SSOSignUpEnabled, sqlcodec.ToNS(a.UpdatedAt))
		return constraint(err, "portal auth settings")
	})
}

const idpCols = `id, portal_id, org_id, type, enabled, issuer_url, client_id, client_secret, scopes,
	claim_name, claim_email, claim_groups, created_at, updated_at`

func scanIdP(sc scanner) (store.IdentityProvider, error) {
	var p store.IdentityProvider
	var scopes string
	var created, updated int64
	err := sc.Scan(&p.ID, &p.PortalID, &p.OrgID, &p.Type, &p.Enabled, &p.IssuerURL, &p.ClientID, &p.ClientSecret, &scopes,
		&p.ClaimName, &p.ClaimEmail, &p.ClaimGroups, &created, &updated)
	p.Scopes = strings.Fields(scopes)
	p.CreatedAt, p.UpdatedAt = sqlcodec.FromNS(created), sqlcodec.FromNS(updated)
	return p, err
}

// CreateIdentityProvider stores a provider; the portal's second of a type
// is a Conflict.
func (s *Store) CreateIdentityProvider(ctx context.Context, p store.IdentityProvider) error {
	return s.write(ctx, "create identity provider", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, rb("INSERT INTO identity_providers ("+idpCols+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"),
			p.ID, p.PortalID, p.OrgID, p.Type, p.Enabled, p.IssuerURL, p.ClientID, p.ClientSecret, strings.Join(p.Scopes, " "),
			p.ClaimName, p.ClaimEmail, p.ClaimGroups, sqlcodec.ToNS(p.CreatedAt), sqlcodec.ToNS(p.UpdatedAt))
		return constraint(err, "identity provider")
	})
}

// GetIdentityProvider finds one of the portal's providers.
func (s *Store) GetIdentityProvider(ctx context.Context, portalID, id string) (store.IdentityProvider, error) {
	return getOne(s, ctx, "get identity provider", "identity provider",
		rb("SELECT "+idpCols+" FROM identity_providers WHERE portal_id = ? AND id = ?"), scanIdP, portalID, id)
}

// ListIdentityProviders lists the portal's providers, oldest first.
func (s *Store) ListIdentityProviders(ctx context.Context, portalID string) ([]store.IdentityProvider, error) {
	out, _, err := list(s, ctx, "list identity providers",
		rb("SELECT "+idpCols+" FROM identity_providers WHERE portal_id = ? ORDER BY created_at, id"), args{portalID}, store.Page{}, scanIdP)
	return out, err
}

// UpdateIdentityProvider replaces a provider's settings (not its type).
func (s *Store) UpdateIdentityProvider(ctx context.Context, p store.IdentityProvider) error {
	return s.write(ctx, "update identity provider", func(ctx context.Context, tx pgx.Tx) error {
		return mustAffect(tx.Exec(ctx, rb(`UPDATE identity_providers SET enabled = ?, issuer_url = ?, client_id = ?,
			client_secret = ?, scopes = ?, claim_name = ?, claim_email = ?, claim_groups = ?, updated_at = ?
			WHERE portal_id = ? AND id = ?`),
			p.Enabled, p.IssuerURL, p.ClientID, p.ClientSecret, strings.Join(p.Scopes, " "), p.ClaimName, p.ClaimEmail,
			p.ClaimGroups, sqlcodec.ToNS(p.UpdatedAt), p.PortalID, p.ID))("identity provider")
	})
}

// DeleteIdentityProvider deletes a provider and, by cascade, its mappings.
func (s *Store) DeleteIdentityProvider(ctx context.Context, portalID, id string) error {
	return s.write(ctx, "delete identity provider", func(ctx context.Context, tx pgx.Tx) error {
		return mustAffect(tx.Exec(ctx, rb("DELETE FROM identity_providers WHERE portal_id = ? AND id = ?"), portalID, id))("identity provider")
	})
}

const mappingCols = "id, portal_id, idp_id, team_id, group_name, created_at, updated_at"

func scanMapping(sc scanner) (store.TeamGroupMapping, error) {
	var m store.TeamGroupMapping
	var created, updated int64
	err := sc.Scan(&m.ID, &m.PortalID, &m.IdPID, &m.TeamID, &m.Group, &created, &updated)
	m.CreatedAt, m.UpdatedAt = sqlcodec.FromNS(created), sqlcodec.FromNS(updated)
	return m, err
}

// CreateTeamGroupMapping stores a mapping between a provider and a team of
// the same portal.
func (s *Store) CreateTeamGroupMapping(ctx context.Context, m store.TeamGroupMapping) error {
	return s.write(ctx, "create team group mapping", func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, rb(`INSERT INTO team_group_mappings (`+mappingCols+`)
			SELECT ?, ?, i.id, t.id, ?, ?, ? FROM identity_providers i, teams t
			WHERE i.portal_id = ? AND i.id = ? AND t.portal_id = ? AND t.id = ?`),
			m.ID, m.PortalID, m.Group, sqlcodec.ToNS(m.CreatedAt), sqlcodec.ToNS(m.UpdatedAt), m.PortalID, m.IdPID, m.PortalID, m.TeamID)
		return mustAffect(tag, constraint(err, "team group mapping"))("identity provider or team")
	})
}

// GetTeamGroupMapping finds one of a provider's mappings.
func (s *Store) GetTeamGroupMapping(ctx context.Context, portalID, idpID, id string) (store.TeamGroupMapping, error) {
	return getOne(s, ctx, "get team group mapping", "team group mapping",
		rb("SELECT "+mappingCols+" FROM team_group_mappings WHERE portal_id = ? AND idp_id = ? AND id = ?"), scanMapping, portalID, idpID, id)
}

// ListTeamGroupMappings lists a provider's mappings, oldest first.
func (s *Store) ListTeamGroupMappings(ctx context.Context, portalID, idpID string) ([]store.TeamGroupMapping, error) {
	out, _, err := list(s, ctx, "list team group mappings",
		rb("SELECT "+mappingCols+" FROM team_group_mappings WHERE portal_id = ? AND idp_id = ? ORDER BY created_at, id"), args{portalID, idpID}, store.Page{}, scanMapping)
	return out, err
}

// DeleteTeamGroupMapping deletes one mapping.
func (s *Store) DeleteTeamGroupMapping(ctx context.Context, portalID, idpID, id string) error {
	return s.write(ctx, "delete team group mapping", func(ctx context.Context, tx pgx.Tx) error {
		return mustAffect(tx.Exec(ctx, rb("DELETE FROM team_group_mappings WHERE portal_id = ? AND idp_id = ? AND id = ?"), portalID, idpID, id))("team group mapping")
	})
}

const teamCols = "id, portal_id, org_id, name, description, can_own_applications, created_at, updated_at"

func scanTeam(sc scanner) (store.Team, error) {
	var t store.Team
	var created, updated int64
	err := sc.Scan(&t.ID, &t.PortalID, &t.OrgID, &t.Name, &t.Description, &t.CanOwnApplications, &created, &updated)
	t.CreatedAt, t.UpdatedAt = sqlcodec.FromNS(created), sqlcodec.FromNS(updated)
	return t, err
}

// CreateTeam stores a team; a name taken in the portal is a Conflict.
func (s *Store) CreateTeam(ctx context.Context, t store.Team) error {
	return s.write(ctx, "create team", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, rb("INSERT INTO teams ("+teamCols+") VALUES (?,?,?,?,?,?,?,?)"),
			t.ID, t.PortalID, t.OrgID, t.Name, t.Description, t.CanOwnApplications, sqlcodec.ToNS(t.CreatedAt), sqlcodec.ToNS(t.UpdatedAt))
		return constraint(err, "team")
	})
}

// GetTeam finds one of the portal's teams.
func (s *Store) GetTeam(ctx context.Context, portalID, id string) (store.Team, error) {
	return getOne(s, ctx, "get team", "team", rb("SELECT "+teamCols+" FROM teams WHERE portal_id = ? AND id = ?"), scanTeam, portalID, id)
}

// ListTeams lists the portal's teams, oldest first.
func (s *Store) ListTeams(ctx context.Context, portalID string) ([]store.Team, error) {
	out, _, err := list(s, ctx, "list teams", rb("SELECT "+teamCols+" FROM teams WHERE portal_id = ? ORDER BY created_at, id"), args{portalID}, store.Page{}, scanTeam)
	return out, err
}

// UpdateTeam replaces a team's name, description and flag.
func (s *Store) UpdateTeam(ctx context.Context, t store.Team) error {
	return s.write(ctx, "update team", func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, rb(`UPDATE teams SET name = ?, description = ?, can_own_applications = ?, updated_at = ?
			WHERE portal_id = ? AND id = ?`), t.Name, t.Description, t.CanOwnApplications, sqlcodec.ToNS(t.UpdatedAt), t.PortalID, t.ID)
		return mustAffect(tag, constraint(err, "team"))("team")
	})
}

// DeleteTeam deletes a team and, by cascade, its memberships and mappings.
func (s *Store) DeleteTeam(ctx context.Context, portalID, id string) error {
	return s.write(ctx, "delete team", func(ctx context.Context, tx pgx.Tx) error {
		return mustAffect(tx.Exec(ctx, rb("DELETE FROM teams WHERE portal_id = ? AND id = ?"), portalID, id))("team")
	})
}

// AddTeamDeveloper makes a developer a member of a team of its portal.
func (s *Store) AddTeamDeveloper(ctx context.Context, portalID, teamID, developerID string, at time.Time) error {
	return s.write(ctx, "add team developer", func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, rb(`INSERT INTO team_developers (team_id, developer_id, created_at)
			SELECT t.id, d.id, ? FROM teams t, developers d WHERE t.portal_id = ? AND t.id = ? AND d.portal_id = ? AND d.id = ?`),
			sqlcodec.ToNS(at), portalID, teamID, portalID, developerID)
		return mustAffect(tag, constraint(err, "team membership"))("team or developer")
	})
}

// RemoveTeamDeveloper ends a membership.
func (s *Store) RemoveTeamDeveloper(ctx context.Context, portalID, teamID, developerID string) error {
	return s.write(ctx, "remove team developer", func(ctx context.Context, tx pgx.Tx) error {
		return mustAffect(tx.Exec(ctx, rb(`DELETE FROM team_developers WHERE team_id = ? AND developer_id = ?
			AND team_id IN (SELECT id FROM teams WHERE portal_id = ?)`), teamID, developerID, portalID))("team membership")
	})
}

// ListTeamDevelopers lists a team's members in sign-up order.
func (s *Store) ListTeamDevelopers(ctx context.Context, portalID, teamID string) ([]store.Developer, error) {
	out, _, err := list(s, ctx, "list team developers", rb("SELECT "+prefixed("d.", developerCols)+` FROM developers d
		JOIN team_developers m ON m.developer_id = d.id JOIN teams t ON t.id = m.team_id
		WHERE t.portal_id = ? AND t.id = ? ORDER BY d.id`), args{portalID, teamID}, store.Page{}, scanDeveloper)
	return out, err
}

// ListDeveloperTeams lists the teams a developer belongs to.
func (s *Store) ListDeveloperTeams(ctx context.Context, portalID, developerID string) ([]store.Team, error) {
	out, _, err := list(s, ctx, "list developer teams", rb("SELECT "+prefixed("t.", teamCols)+` FROM teams t
		JOIN team_developers m ON m.team_id = t.id WHERE t.portal_id = ? AND m.developer_id = ? ORDER BY t.created_at, t.id`),
		args{portalID, developerID}, store.Page{}, scanTeam)
	return out, err
}

// SetDeveloperTeams replaces the developer's memberships in one
// transaction, under the developer's row lock so concurrent log-ins do
// not interleave.
func (s *Store) SetDeveloperTeams(ctx context.Context, portalID, developerID string, teamIDs []string, at time.Time) error {
	return s.write(ctx, "set developer teams", func(ctx context.Context, tx pgx.Tx) error {
		if err := lockRow(ctx, tx, "developer", "SELECT 1 FROM developers WHERE portal_id = $1 AND id = $2 FOR UPDATE", portalID, developerID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM team_developers WHERE developer_id = $1", developerID); err != nil {
			return err
		}
		for _, id := range teamIDs {
			if _, err := tx.Exec(ctx, rb(`INSERT INTO team_developers (team_id, developer_id, created_at)
				SELECT id, ?, ? FROM teams WHERE portal_id = ? AND id = ? ON CONFLICT DO NOTHING`), developerID, sqlcodec.ToNS(at), portalID, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// prefixed qualifies each column of a column list with a table alias.
func prefixed(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = alias + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}
