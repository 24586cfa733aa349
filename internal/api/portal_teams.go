package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

const resTeams = "portal-teams"

// teamRoutes serves a portal's developer teams and their members.
func (s *server) teamRoutes() []route {
	const base = "/v3/portals/{portalId}/teams"
	const one = base + "/{teamId}"
	return []route{
		{method: http.MethodGet, path: base, resource: resTeams, action: audit.ActionList, roles: portalReaders(), handle: s.listTeams},
		{method: http.MethodPost, path: base, resource: resTeams, action: audit.ActionCreate, roles: portalWriters(), handle: s.createTeam},
		{method: http.MethodGet, path: one, resource: resTeams, action: audit.ActionRetrieve, roles: portalReaders(), handle: s.getTeam},
		{method: http.MethodPatch, path: one, resource: resTeams, action: audit.ActionEdit, roles: portalWriters(), handle: s.updateTeam},
		{method: http.MethodDelete, path: one, resource: resTeams, action: audit.ActionDelete, roles: portalWriters(), handle: s.deleteTeam},
		{method: http.MethodGet, path: one + "/developers", resource: resTeams, action: audit.ActionList, roles: portalReaders(), handle: s.listTeamDevelopers},
		{method: http.MethodPost, path: one + "/developers", resource: resTeams, action: audit.ActionEdit, roles: portalWriters(), handle: s.addTeamDeveloper},
		{method: http.MethodDelete, path: one + "/developers/{developerId}", resource: resTeams, action: audit.ActionEdit, roles: portalWriters(), handle: s.removeTeamDeveloper},
		{method: http.MethodGet, path: "/v3/portals/{portalId}/developers/{developerId}/teams", resource: resTeams, action: audit.ActionList, roles: portalReaders(), handle: s.listDeveloperTeams},
	}
}

// teamJSON is Kong's PortalTeamResponse.
type teamJSON struct {
	ID                 string    `json:"id"`
	Name               string    `json:"name"`
	Description        string    `json:"description"`
	CanOwnApplications bool      `json:"can_own_applications"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

func toTeamJSON(t store.Team) teamJSON {
	return teamJSON{ID: t.ID, Name: t.Name, Description: t.Description, CanOwnApplications: t.CanOwnApplications,
		CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC()}
}

// basicDeveloperJSON is Kong's BasicDeveloper.
type basicDeveloperJSON struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	FullName  string    `json:"full_name"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

type teamBody struct {
	Name               *string `json:"name"`
	Description        *string `json:"description"`
	CanOwnApplications *bool   `json:"can_own_applications"`
}

const maxTeamText = 250 // Kong's limit for both name and description

func (b teamBody) apply(t *store.Team) error {
	if b.Name != nil {
		t.Name = strings.TrimSpace(*b.Name)
	}
	if b.Description != nil {
		t.Description = *b.Description
	}
	if b.CanOwnApplications != nil {
		t.CanOwnApplications = *b.CanOwnApplications
	}
	if err := checkText("name", t.Name, maxTeamText, true); err != nil {
		return err
	}
	if b.Description != nil && *b.Description == "" {
		return apperr.InvalidField("body", "description", "invalid", "must not be empty")
	}
	return checkText("description", t.Description, maxTeamText, false)
}

func (s *server) team(c *call) (store.Portal, store.Team, error) {
	p, err := s.portal(c)
	if err != nil {
		return p, store.Team{}, err
	}
	id, err := c.pathUUID("teamId")
	if err != nil {
		return p, store.Team{}, err
	}
	t, err := s.st.GetTeam(c.ctx(), p.ID, id)
	if apperr.Is(err, apperr.NotFound) {
		return p, t, apperr.New(apperr.NotFound, "Team %s not found", id)
	}
	return p, t, err
}

func teamTaken(err error, name string) error {
	if apperr.Is(err, apperr.Conflict) {
		return apperr.InvalidField("body", "name", "invalid", "a team named \""+name+"\" already exists in the portal")
	}
	return err
}

func (s *server) listTeams(c *call) error {
	p, err := s.portal(c)
	if err != nil {
		return err
	}
	return s.teamPage(c, func() ([]store.Team, error) { return s.st.ListTeams(c.ctx(), p.ID) }, "name", "can_own_applications")
}

func (s *server) listDeveloperTeams(c *call) error {
	d, err := s.developer(c)
	if err != nil {
		return err
	}
	return s.teamPage(c, func() ([]store.Team, error) { return s.st.ListDeveloperTeams(c.ctx(), d.PortalID, d.ID) }, "can_own_applications")
}

// teamPage answers one number-paged page of teams, filtered.
func (s *server) teamPage(c *call, load func() ([]store.Team, error), filterFields ...string) error {
	q := c.r.URL.Query()
	size, number, err := pageNumber(q)
	if err != nil {
		return err
	}
	filters, err := parseFilters(q, filterFields...)
	if err != nil {
		return err
	}
	all, err := load()
	if err != nil {
		return err
	}
	var kept []store.Team
	for _, t := range all {
		own := "false"
		if t.CanOwnApplications {
			own = "true"
		}
		if filters["name"].match(t.Name) && filters["can_own_applications"].match(own) {
			kept = append(kept, t)
		}
	}
	return writePage(c, kept, size, number, toTeamJSON)
}

func (s *server) createTeam(c *call) error {
	p, err := s.portal(c)
	if err != nil {
		return err
	}
	var b teamBody
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
	t := store.Team{ID: id, PortalID: p.ID, OrgID: p.OrgID, CreatedAt: now, UpdatedAt: now}
	if err := b.apply(&t); err != nil {
		return err
	}
	if t.Description == "" {
		// Kong's answer requires a non-empty description; its request does not.
		t.Description = t.Name
	}
	if err := s.st.CreateTeam(c.ctx(), t); err != nil {
		return teamTaken(err, t.Name)
	}
	return c.json(http.StatusCreated, toTeamJSON(t))
}

func (s *server) getTeam(c *call) error {
	_, t, err := s.team(c)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, toTeamJSON(t))
}

func (s *server) updateTeam(c *call) error {
	if _, err := s.portal(c); err != nil { // another org's portal is a 404 before any body check
		return err
	}
	var b teamBody
	if err := c.decode(&b); err != nil {
		return err
	}
	_, t, err := s.team(c)
	if err != nil {
		return err
	}
	if err := b.apply(&t); err != nil {
		return err
	}
	t.UpdatedAt = c.now()
	if err := s.st.UpdateTeam(c.ctx(), t); err != nil {
		return teamTaken(err, t.Name)
	}
	return c.json(http.StatusOK, toTeamJSON(t))
}

func (s *server) deleteTeam(c *call) error {
	p, t, err := s.team(c)
	if err != nil {
		return err
	}
	if err := s.st.DeleteTeam(c.ctx(), p.ID, t.ID); err != nil {
		return err
	}
	return c.noContent()
}

func (s *server) listTeamDevelopers(c *call) error {
	p, t, err := s.team(c)
	if err != nil {
		return err
	}
	q := c.r.URL.Query()
	size, number, err := pageNumber(q)
	if err != nil {
		return err
	}
	filters, err := parseFilters(q, "email", "full_name", "active")
	if err != nil {
		return err
	}
	all, err := s.st.ListTeamDevelopers(c.ctx(), p.ID, t.ID)
	if err != nil {
		return err
	}
	var kept []basicDeveloperJSON
	for _, d := range all {
		active := d.Status == store.DeveloperApproved
		if filters["email"].match(d.Email) && filters["full_name"].match(d.FullName) && filters["active"].match(boolText(active)) {
			kept = append(kept, basicDeveloperJSON{ID: d.ID, Email: d.Email, FullName: d.FullName, Active: active,
				CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC()})
		}
	}
	return writePage(c, kept, size, number, same[basicDeveloperJSON])
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func (s *server) addTeamDeveloper(c *call) error {
	if _, err := s.portal(c); err != nil { // another org's portal is a 404 before any body check
		return err
	}
	var b struct {
		ID *string `json:"id"`
	}
	if err := c.decode(&b); err != nil {
		return err
	}
	p, t, err := s.team(c)
	if err != nil {
		return err
	}
	if b.ID == nil {
		return apperr.InvalidField("body", "id", "required", "is required")
	}
	devID, ok := canonicalUUID(*b.ID)
	if !ok {
		return apperr.InvalidField("body", "id", "is_uuid", "must be a UUID")
	}
	if _, err := s.st.GetDeveloper(c.ctx(), p.ID, devID); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return apperr.InvalidField("body", "id", "invalid", "is not a developer of this portal")
		}
		return err
	}
	if err := s.st.AddTeamDeveloper(c.ctx(), p.ID, t.ID, devID, c.now()); err != nil {
		if apperr.Is(err, apperr.Conflict) {
			return apperr.New(apperr.Conflict, "The developer is a member of the team already")
		}
		return err
	}
	c.w.WriteHeader(http.StatusCreated) // Kong's answer has no body
	return nil
}

func (s *server) removeTeamDeveloper(c *call) error {
	p, t, err := s.team(c)
	if err != nil {
		return err
	}
	devID, err := c.pathUUID("developerId")
	if err != nil {
		return err
	}
	if err := s.st.RemoveTeamDeveloper(c.ctx(), p.ID, t.ID, devID); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return apperr.New(apperr.NotFound, "Developer %s is not a member of team %s", devID, t.ID)
		}
		return err
	}
	return c.noContent()
}
