package api

import (
	"net/http"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// developerRoutes lets portal admins review a portal's developer accounts
// (the accounts themselves are made by the Dev Portal, internal/portal).
func (s *server) developerRoutes() []route {
	const base = "/v3/portals/{portalId}/developers"
	const one = base + "/{developerId}"
	return []route{
		{method: http.MethodGet, path: base, resource: resDevelopers, action: audit.ActionList, roles: portalReaders(), handle: s.listDevelopers},
		{method: http.MethodGet, path: one, resource: resDevelopers, action: audit.ActionRetrieve, roles: portalReaders(), handle: s.getDeveloper},
		{method: http.MethodPatch, path: one, resource: resDevelopers, action: audit.ActionEdit, roles: portalWriters(), handle: s.updateDeveloper},
		{method: http.MethodDelete, path: one, resource: resDevelopers, action: audit.ActionDelete, roles: portalWriters(), handle: s.deleteDeveloper},
	}
}

// developerJSON is Kong's PortalDeveloper: no password, no lockout state.
type developerJSON struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Email     string    `json:"email"`
	FullName  string    `json:"full_name"`
	Status    string    `json:"status"`
}

func toDeveloperJSON(d store.Developer) developerJSON {
	return developerJSON{ID: d.ID, CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(), Email: d.Email, FullName: d.FullName, Status: d.Status}
}

// developer loads {developerId} of the portal {portalId} of the caller's org.
func (s *server) developer(c *call) (store.Developer, error) {
	p, err := s.portal(c)
	if err != nil {
		return store.Developer{}, err
	}
	id, err := c.pathUUID("developerId")
	if err != nil {
		return store.Developer{}, err
	}
	d, err := s.st.GetDeveloper(c.ctx(), p.ID, id)
	if err == nil && (d.PortalID != p.ID || d.OrgID != c.org) {
		err = apperr.New(apperr.NotFound, "not found")
	}
	if apperr.Is(err, apperr.NotFound) {
		return store.Developer{}, apperr.New(apperr.NotFound, "Developer %s not found", id)
	}
	return d, err
}

func (s *server) listDevelopers(c *call) error {
	p, err := s.portal(c)
	if err != nil {
		return err
	}
	q := c.r.URL.Query()
	size, number, err := pageNumber(q)
	if err != nil {
		return err
	}
	if q.Get("sort") != "" {
		return apperr.InvalidField("query", "sort", "invalid", "is not supported; developers are listed in sign-up order")
	}
	filters, err := parseFilters(q, "name", "email", "status")
	if err != nil {
		return err
	}
	var all []store.Developer
	pg := store.Page{Size: maxPageSize}
	for {
		ds, more, err := s.st.ListDevelopers(c.ctx(), p.ID, pg)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if filters["name"].match(d.FullName) && filters["email"].match(d.Email) && filters["status"].match(d.Status) {
				all = append(all, d)
			}
		}
		if !more || len(ds) == 0 {
			break
		}
		pg.After = ds[len(ds)-1].ID
	}
	return writePage(c, all, size, number, toDeveloperJSON)
}

func (s *server) getDeveloper(c *call) error {
	d, err := s.developer(c)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, toDeveloperJSON(d))
}

type developerBody struct {
	Status *string `json:"status"`
}

// updateDeveloper approves, revokes or rejects a developer. A developer who
// loses approval is signed out at once.
func (s *server) updateDeveloper(c *call) error {
	d, err := s.developer(c)
	if err != nil {
		return err
	}
	var b developerBody
	if err := c.decode(&b); err != nil {
		return err
	}
	if b.Status != nil {
		switch *b.Status {
		case store.DeveloperApproved, store.DeveloperRevoked, store.DeveloperRejected:
			d.Status = *b.Status
		default:
			return apperr.InvalidField("body", "status", "invalid", "must be approved, revoked or rejected")
		}
		d.UpdatedAt = c.now()
		if err := s.st.UpdateDeveloper(c.ctx(), d); err != nil {
			return err
		}
		if d.Status != store.DeveloperApproved {
			for _, purpose := range []string{store.PurposeSession, store.PurposeRefresh} {
				if err := s.st.DeleteDeveloperTokens(c.ctx(), d.ID, purpose); err != nil {
					return err
				}
			}
		}
	}
	return c.json(http.StatusOK, toDeveloperJSON(d))
}

func (s *server) deleteDeveloper(c *call) error {
	d, err := s.developer(c)
	if err != nil {
		return err
	}
	if err := s.st.DeleteDeveloper(c.ctx(), d.PortalID, d.ID); err != nil {
		return err
	}
	return c.noContent()
}
