package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// GetAuthSettings returns the portal's settings, the defaults when it has
// none stored.
func (s *Store) GetAuthSettings(ctx context.Context, portalID string) (store.AuthSettings, error) {
	a := store.AuthSettings{PortalID: portalID}
	var updated int64
	err := s.rdb.QueryRowContext(ctx, `SELECT basic_auth_enabled, idp_mapping_enabled, konnect_mapping_enabled, sso_sign_up_enabled, updated_at
		FROM portal_auth_settings WHERE portal_id = ?`, portalID).Scan(&a.BasicAuthEnabled, &a.IDPMappingEnabled, &a.KonnectMappingEnabled, &a.SSOSignUpEnabled, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return store.DefaultAuthSettings(portalID), nil
	}
	a.UpdatedAt = sqlcodec.FromNS(updated)
	return a, s.internal(err, "get auth settings")
}

// PutAuthSettings stores the portal's settings.
func (s *Store) PutAuthSettings(ctx context.Context, a store.AuthSettings) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO portal_auth_settings (portal_id, basic_auth_enabled, idp_mapping_enabled,
			konnect_mapping_enabled, sso_sign_up_enabled, updated_at) VALUES (?,?,?,?,?,?)
			ON CONFLICT (portal_id) DO UPDATE SET basic_auth_enabled = excluded.basic_auth_enabled,
			idp_mapping_enabled = excluded.idp_mapping_enabled, konnect_mapping_enabled = excluded.konnect_mapping_enabled,
			sso_sign_up_enabled = excluded.sso_sign_up_enabled, updated_at = excluded.updated_at`,
			a.PortalID, boolInt(a.BasicAuthEnabled), boolInt(a.IDPMappingEnabled), boolInt(a.KonnectMappingEnabled),
			boolInt(a.SSOSignUpEnabled), sqlcodec.ToNS(a.UpdatedAt))
		return constraint(err, "portal auth settings")
	})
	return s.internal(err, "put auth settings")
}

const idpCols = `id, portal_id, org_id, type, enabled, issuer_url, client_id, client_secret, scopes,
	claim_name, claim_email, claim_groups, created_at, updated_at`

func scanIdP(sc interface{ Scan(...any) error }) (store.IdentityProvider, error) {
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
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		_, err := q.ExecContext(ctx, "INSERT INTO identity_providers ("+idpCols+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			p.ID, p.PortalID, p.OrgID, p.Type, boolInt(p.Enabled), p.IssuerURL, p.ClientID, p.ClientSecret, strings.Join(p.Scopes, " "),
			p.ClaimName, p.ClaimEmail, p.ClaimGroups, sqlcodec.ToNS(p.CreatedAt), sqlcodec.ToNS(p.UpdatedAt))
		return constraint(err, "identity provider")
	})
	return s.internal(err, "create identity provider")
}

// GetIdentityProvider finds one of the portal's providers.
func (s *Store) GetIdentityProvider(ctx context.Context, portalID, id string) (store.IdentityProvider, error) {
	p, err := scanIdP(s.rdb.QueryRowContext(ctx, "SELECT "+idpCols+" FROM identity_providers WHERE portal_id = ? AND id = ?", portalID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("identity provider")
	}
	return p, s.internal(err, "get identity provider")
}

// ListIdentityProviders lists the portal's providers, oldest first.
func (s *Store) ListIdentityProviders(ctx context.Context, portalID string) ([]store.IdentityProvider, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+idpCols+" FROM identity_providers WHERE portal_id = ? ORDER BY created_at, id", portalID)
	if err != nil {
		return nil, s.internal(err, "list identity providers")
	}
	out, err := collectRows(rows, scanIdP)
	return out, s.internal(err, "list identity providers")
}

// UpdateIdentityProvider replaces a provider's settings (not its type).
func (s *Store) UpdateIdentityProvider(ctx context.Context, p store.IdentityProvider) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		return mustAffect(q.ExecContext(ctx, `UPDATE identity_providers SET enabled = ?, issuer_url = ?, client_id = ?,
			client_secret = ?, scopes = ?, claim_name = ?, claim_email = ?, claim_groups = ?, updated_at = ?
			WHERE portal_id = ? AND id = ?`,
			boolInt(p.Enabled), p.IssuerURL, p.ClientID, p.ClientSecret, strings.Join(p.Scopes, " "), p.ClaimName, p.ClaimEmail,
			p.ClaimGroups, sqlcodec.ToNS(p.UpdatedAt), p.PortalID, p.ID))("identity provider")
	})
	return s.internal(err, "update identity provider")
}

// DeleteIdentityProvider deletes a provider and, by cascade, its mappings.
func (s *Store) DeleteIdentityProvider(ctx context.Context, portalID, id string) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		return mustAffect(q.ExecContext(ctx, "DELETE FROM identity_providers WHERE portal_id = ? AND id = ?", portalID, id))("identity provider")
	})
	return s.internal(err, "delete identity provider")
}

const mappingCols = "id, portal_id, idp_id, team_id, group_name, created_at, updated_at"

func scanMapping(sc interface{ Scan(...any) error }) (store.TeamGroupMapping, error) {
	var m store.TeamGroupMapping
	var created, updated int64
	err := sc.Scan(&m.ID, &m.PortalID, &m.IdPID, &m.TeamID, &m.Group, &created, &updated)
	m.CreatedAt, m.UpdatedAt = sqlcodec.FromNS(created), sqlcodec.FromNS(updated)
	return m, err
}

// CreateTeamGroupMapping stores a mapping between a provider and a team of
// the same portal.
func (s *Store) CreateTeamGroupMapping(ctx context.Context, m store.TeamGroupMapping) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		res, err := q.ExecContext(ctx, `INSERT INTO team_group_mappings (`+mappingCols+`)
			SELECT ?, ?, i.id, t.id, ?, ?, ? FROM identity_providers i, teams t
			WHERE i.portal_id = ? AND i.id = ? AND t.portal_id = ? AND t.id = ?`,
			m.ID, m.PortalID, m.Group, sqlcodec.ToNS(m.CreatedAt), sqlcodec.ToNS(m.UpdatedAt), m.PortalID, m.IdPID, m.PortalID, m.TeamID)
		return mustAffect(res, constraint(err, "team group mapping"))("identity provider or team")
	})
	return s.internal(err, "create team group mapping")
}

// GetTeamGroupMapping finds one of a provider's mappings.
func (s *Store) GetTeamGroupMapping(ctx context.Context, portalID, idpID, id string) (store.TeamGroupMapping, error) {
	m, err := scanMapping(s.rdb.QueryRowContext(ctx, "SELECT "+mappingCols+" FROM team_group_mappings WHERE portal_id = ? AND idp_id = ? AND id = ?", portalID, idpID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return m, notFound("team group mapping")
	}
	return m, s.internal(err, "get team group mapping")
}

// ListTeamGroupMappings lists a provider's mappings, oldest first.
func (s *Store) ListTeamGroupMappings(ctx context.Context, portalID, idpID string) ([]store.TeamGroupMapping, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+mappingCols+" FROM team_group_mappings WHERE portal_id = ? AND idp_id = ? ORDER BY created_at, id", portalID, idpID)
	if err != nil {
		return nil, s.internal(err, "list team group mappings")
	}
	out, err := collectRows(rows, scanMapping)
	return out, s.internal(err, "list team group mappings")
}

// DeleteTeamGroupMapping deletes one mapping.
func (s *Store) DeleteTeamGroupMapping(ctx context.Context, portalID, idpID, id string) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		return mustAffect(q.ExecContext(ctx, "DELETE FROM team_group_mappings WHERE portal_id = ? AND idp_id = ? AND id = ?", portalID, idpID, id))("team group mapping")
	})
	return s.internal(err, "delete team group mapping")
}

const teamCols = "id, portal_id, org_id, name, description, can_own_applications, created_at, updated_at"

func scanTeam(sc interface{ Scan(...any) error }) (store.Team, error) {
	var t store.Team
	var created, updated int64
	err := sc.Scan(&t.ID, &t.PortalID, &t.OrgID, &t.Name, &t.Description, &t.CanOwnApplications, &created, &updated)
	t.CreatedAt, t.UpdatedAt = sqlcodec.FromNS(created), sqlcodec.FromNS(updated)
	return t, err
}

// CreateTeam stores a team; a name taken in the portal is a Conflict.
func (s *Store) CreateTeam(ctx context.Context, t store.Team) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		_, err := q.ExecContext(ctx, "INSERT INTO teams ("+teamCols+") VALUES (?,?,?,?,?,?,?,?)",
			t.ID, t.PortalID, t.OrgID, t.Name, t.Description, boolInt(t.CanOwnApplications), sqlcodec.ToNS(t.CreatedAt), sqlcodec.ToNS(t.UpdatedAt))
		return constraint(err, "team")
	})
	return s.internal(err, "create team")
}

// GetTeam finds one of the portal's teams.
func (s *Store) GetTeam(ctx context.Context, portalID, id string) (store.Team, error) {
	t, err := scanTeam(s.rdb.QueryRowContext(ctx, "SELECT "+teamCols+" FROM teams WHERE portal_id = ? AND id = ?", portalID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, notFound("team")
	}
	return t, s.internal(err, "get team")
}

// ListTeams lists the portal's teams, oldest first.
func (s *Store) ListTeams(ctx context.Context, portalID string) ([]store.Team, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+teamCols+" FROM teams WHERE portal_id = ? ORDER BY created_at, id", portalID)
	if err != nil {
		return nil, s.internal(err, "list teams")
	}
	out, err := collectRows(rows, scanTeam)
	return out, s.internal(err, "list teams")
}

// UpdateTeam replaces a team's name, description and flag.
func (s *Store) UpdateTeam(ctx context.Context, t store.Team) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE teams SET name = ?, description = ?, can_own_applications = ?, updated_at = ?
			WHERE portal_id = ? AND id = ?`, t.Name, t.Description, boolInt(t.CanOwnApplications), sqlcodec.ToNS(t.UpdatedAt), t.PortalID, t.ID)
		return mustAffect(res, constraint(err, "team"))("team")
	})
	return s.internal(err, "update team")
}

// DeleteTeam deletes a team and, by cascade, its memberships and mappings.
func (s *Store) DeleteTeam(ctx context.Context, portalID, id string) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		return mustAffect(q.ExecContext(ctx, "DELETE FROM teams WHERE portal_id = ? AND id = ?", portalID, id))("team")
	})
	return s.internal(err, "delete team")
}

// AddTeamDeveloper makes a developer a member of a team of its portal.
func (s *Store) AddTeamDeveloper(ctx context.Context, portalID, teamID, developerID string, at time.Time) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		res, err := q.ExecContext(ctx, `INSERT INTO team_developers (team_id, developer_id, created_at)
			SELECT t.id, d.id, ? FROM teams t, developers d WHERE t.portal_id = ? AND t.id = ? AND d.portal_id = ? AND d.id = ?`,
			sqlcodec.ToNS(at), portalID, teamID, portalID, developerID)
		return mustAffect(res, constraint(err, "team membership"))("team or developer")
	})
	return s.internal(err, "add team developer")
}

// RemoveTeamDeveloper ends a membership.
func (s *Store) RemoveTeamDeveloper(ctx context.Context, portalID, teamID, developerID string) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		return mustAffect(q.ExecContext(ctx, `DELETE FROM team_developers WHERE team_id = ? AND developer_id = ?
			AND team_id IN (SELECT id FROM teams WHERE portal_id = ?)`, teamID, developerID, portalID))("team membership")
	})
	return s.internal(err, "remove team developer")
}

// ListTeamDevelopers lists a team's members in sign-up order.
func (s *Store) ListTeamDevelopers(ctx context.Context, portalID, teamID string) ([]store.Developer, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+prefixed("d.", developerCols)+` FROM developers d
		JOIN team_developers m ON m.developer_id = d.id JOIN teams t ON t.id = m.team_id
		WHERE t.portal_id = ? AND t.id = ? ORDER BY d.id`, portalID, teamID)
	if err != nil {
		return nil, s.internal(err, "list team developers")
	}
	out, err := collectRows(rows, scanDeveloper)
	return out, s.internal(err, "list team developers")
}

// ListDeveloperTeams lists the teams a developer belongs to.
func (s *Store) ListDeveloperTeams(ctx context.Context, portalID, developerID string) ([]store.Team, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+prefixed("t.", teamCols)+` FROM teams t
		JOIN team_developers m ON m.team_id = t.id WHERE t.portal_id = ? AND m.developer_id = ? ORDER BY t.created_at, t.id`, portalID, developerID)
	if err != nil {
		return nil, s.internal(err, "list developer teams")
	}
	out, err := collectRows(rows, scanTeam)
	return out, s.internal(err, "list developer teams")
}

// SetDeveloperTeams replaces the developer's memberships in one
// transaction.
func (s *Store) SetDeveloperTeams(ctx context.Context, portalID, developerID string, teamIDs []string, at time.Time) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		var exists int
		if err := q.QueryRowContext(ctx, "SELECT 1 FROM developers WHERE portal_id = ? AND id = ?", portalID, developerID).Scan(&exists); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return notFound("developer")
			}
			return err
		}
		if _, err := q.ExecContext(ctx, "DELETE FROM team_developers WHERE developer_id = ?", developerID); err != nil {
			return err
		}
		for _, id := range teamIDs {
			if _, err := q.ExecContext(ctx, `INSERT INTO team_developers (team_id, developer_id, created_at)
				SELECT id, ?, ? FROM teams WHERE portal_id = ? AND id = ? ON CONFLICT DO NOTHING`, developerID, sqlcodec.ToNS(at), portalID, id); err != nil {
				return err
			}
		}
		return nil
	})
	return s.internal(err, "set developer teams")
}

// prefixed qualifies each column of a column list with a table alias.
func prefixed(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = alias + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}
