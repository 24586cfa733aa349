package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

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
