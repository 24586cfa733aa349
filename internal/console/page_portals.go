package console

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

type developerRow struct {
	ID, Email, FullName, Status, LockedUntil string
	Locked                                   bool
	Failures                                 int
}

type portalRow struct {
	ID, Name   string
	Developers []developerRow
}

func (h *Handler) pagePortals(w http.ResponseWriter, r *http.Request, u store.User) {
	d := h.newPage(w, r, u, "Portals and developers")
	switch r.URL.Query().Get("m") {
	case "saved":
		d.Notice = "The developer's status was changed."
	case "unlocked":
		d.Notice = "The lockout was cleared."
	}
	rows, err := h.portalRows(r, u)
	status := http.StatusOK
	if err != nil {
		status = h.showError(r, &d, err)
	}
	d.Data = rows
	h.render(w, r, status, "portals", d)
}

func (h *Handler) portalRows(r *http.Request, u store.User) ([]portalRow, error) {
	portals, err := h.listPortals(r, u)
	if err != nil {
		return nil, err
	}
	now := h.clk.Now()
	var rows []portalRow
	for _, p := range portals {
		var devs struct {
			Data []struct {
				ID       string `json:"id"`
				Email    string `json:"email"`
				FullName string `json:"full_name"`
				Status   string `json:"status"`
			}
		}
		if err := h.call(r, u, http.MethodGet, "/v3/portals/"+url.PathEscape(p.ID)+"/developers?page%5Bsize%5D=100", nil, &devs); err != nil {
			return nil, err
		}
		row := portalRow{ID: p.ID, Name: p.Name}
		for _, x := range devs.Data {
			dr := developerRow{ID: x.ID, Email: x.Email, FullName: x.FullName, Status: x.Status}
			// The API authorised reading these developers; their failure
			// counts are not in its answer, so they come from the store.
			if dev, err := h.st.GetDeveloper(r.Context(), p.ID, x.ID); err == nil {
				dr.Locked, dr.Failures = now.Before(dev.LockedUntil), dev.FailedLogins
				if dr.Locked {
					dr.LockedUntil = dev.LockedUntil.UTC().Format(time.RFC3339)
				}
			} else if !apperr.Is(err, apperr.NotFound) {
				return nil, err
			}
			row.Developers = append(row.Developers, dr)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func (h *Handler) pageDeveloperStatus(w http.ResponseWriter, r *http.Request, u store.User) {
	path := "/v3/portals/" + url.PathEscape(r.PathValue("portal")) + "/developers/" + url.PathEscape(r.PathValue("dev"))
	if err := h.call(r, u, http.MethodPatch, path, map[string]any{"status": r.PostForm.Get("status")}, nil); err != nil {
		d := h.newPage(w, r, u, "Portals and developers")
		h.render(w, r, h.showError(r, &d, err), "message", d)
		return
	}
	http.Redirect(w, r, "/portals?m=saved", http.StatusSeeOther)
}

// pageDeveloperUnlock clears a developer's failure count and lock, which
// the API has no operation for: audited here as the API audits (portal
// writers may).
func (h *Handler) pageDeveloperUnlock(w http.ResponseWriter, r *http.Request, u store.User) {
	portalID, devID := r.PathValue("portal"), r.PathValue("dev")
	err := h.audited(r, u, resLockouts, audit.ActionEdit, []store.Role{store.RolePortalAdmin}, func(ctx context.Context) error {
		p, err := h.st.GetPortal(ctx, u.OrgID, portalID)
		if err != nil {
			return err
		}
		return h.st.ClearLoginFailures(ctx, p.ID, devID)
	})
	if err != nil {
		d := h.newPage(w, r, u, "Portals and developers")
		h.render(w, r, h.showError(r, &d, err), "message", d)
		return
	}
	http.Redirect(w, r, "/portals?m=unlocked", http.StatusSeeOther)
}
