package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// teamMappingRoutes serves Kong's (beta) view of the portal's team-group
// mappings grouped by team: /identity-provider/team-group-mappings, the
// mappings of the portal's OIDC provider.
func (s *server) teamMappingRoutes() []route {
	const path = "/v3/portals/{portalId}/identity-provider/team-group-mappings"
	return []route{
		{method: http.MethodGet, path: path, resource: resPortalIdPs, action: audit.ActionList, roles: portalReaders(), handle: s.listTeamMappings},
		{method: http.MethodPatch, path: path, resource: resPortalIdPs, action: audit.ActionEdit, roles: portalWriters(), handle: s.updateTeamMappings},
	}
}

type teamGroupsJSON struct {
	TeamID string   `json:"team_id"`
	Groups []string `json:"groups"`
}

var errNoIdP = apperr.InvalidField("path", "portalId", "invalid", "the portal has no identity provider; create one first")

// mappingProvider is the portal's OIDC provider, a 400 when it has none.
func (s *server) mappingProvider(c *call, p store.Portal) (store.IdentityProvider, error) {
	i, ok, err := s.oidcProvider(c, p)
	if err == nil && !ok {
		err = errNoIdP
	}
	return i, err
}

// groupedMappings answers the provider's mappings grouped by team, teams
// in creation order.
func (s *server) groupedMappings(c *call, p store.Portal, i store.IdentityProvider) error {
	size, number, err := pageNumber(c.r.URL.Query())
	if err != nil {
		return err
	}
	teams, err := s.st.ListTeams(c.ctx(), p.ID)
	if err != nil {
		return err
	}
	ms, err := s.st.ListTeamGroupMappings(c.ctx(), p.ID, i.ID)
	if err != nil {
		return err
	}
	byTeam := map[string][]string{}
	for _, m := range ms {
		byTeam[m.TeamID] = append(byTeam[m.TeamID], m.Group)
	}
	var all []teamGroupsJSON
	for _, t := range teams {
		if g := byTeam[t.ID]; len(g) > 0 {
			all = append(all, teamGroupsJSON{TeamID: t.ID, Groups: g})
		}
	}
	return writePage(c, all, size, number, same[teamGroupsJSON])
}

func (s *server) listTeamMappings(c *call) error {
	p, err := s.portal(c)
	if err != nil {
		return err
	}
	i, err := s.mappingProvider(c, p)
	if err != nil {
		return err
	}
	return s.groupedMappings(c, p, i)
}

// updateTeamMappings replaces, for each team named, its groups with those
// given (none: the team loses its mappings). Every team is checked before
// anything changes.
func (s *server) updateTeamMappings(c *call) error {
	p, err := s.portal(c)
	if err != nil {
		return err
	}
	var b struct {
		Data *[]struct {
			TeamID *string   `json:"team_id"`
			Groups *[]string `json:"groups"`
		} `json:"data"`
	}
	if err := c.decode(&b); err != nil {
		return err
	}
	if b.Data == nil {
		return apperr.InvalidField("body", "data", "required", "is required")
	}
	i, err := s.mappingProvider(c, p)
	if err != nil {
		return err
	}
	want := map[string][]string{}
	var order []string
	for n, d := range *b.Data {
		field := "data[" + strconv.Itoa(n) + "]"
		if d.TeamID == nil {
			return apperr.InvalidField("body", field+".team_id", "required", "is required")
		}
		id, ok := canonicalUUID(*d.TeamID)
		if !ok {
			return apperr.InvalidField("body", field+".team_id", "is_uuid", "must be a UUID")
		}
		if _, err := s.st.GetTeam(c.ctx(), p.ID, id); err != nil {
			if apperr.Is(err, apperr.NotFound) {
				return apperr.InvalidField("body", field+".team_id", "invalid", "is not a team of this portal")
			}
			return err
		}
		var groups []string
		if d.Groups != nil {
			for _, g := range *d.Groups {
				if strings.TrimSpace(g) == "" || len(g) > 255 {
					return apperr.InvalidField("body", field+".groups", "invalid", "each group must be 1 to 255 characters")
				}
				if !contains(groups, g) {
					groups = append(groups, g)
				}
			}
		}
		if _, seen := want[id]; !seen {
			order = append(order, id)
		}
		want[id] = groups
	}
	current, err := s.st.ListTeamGroupMappings(c.ctx(), p.ID, i.ID)
	if err != nil {
		return err
	}
	for _, m := range current {
		if groups, named := want[m.TeamID]; named && !contains(groups, m.Group) {
			if err := s.st.DeleteTeamGroupMapping(c.ctx(), p.ID, i.ID, m.ID); err != nil && !apperr.Is(err, apperr.NotFound) {
				return err
			}
		}
	}
	now := c.now()
	for _, teamID := range order {
		for _, g := range want[teamID] {
			id, err := newID()
			if err != nil {
				return err
			}
			err = s.st.CreateTeamGroupMapping(c.ctx(), store.TeamGroupMapping{ID: id, PortalID: p.ID, IdPID: i.ID, TeamID: teamID, Group: g, CreatedAt: now, UpdatedAt: now})
			if err != nil && !apperr.Is(err, apperr.Conflict) { // kept as it was
				return err
			}
		}
	}
	return s.groupedMappings(c, p, i)
}
