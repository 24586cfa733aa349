package console

import (
	"net/http"
	"net/url"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

type attemptRow struct {
	At   string
	Code int
	OK   bool
}

type webhookRow struct {
	Key, Label, Action, Status     string
	DestinationID, DestinationName string
	Enabled                        bool
	Attempts                       []attemptRow
}

type webhooksData struct {
	Rows         []webhookRow
	Destinations []destination
}

type portalJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
}

// listPortals reads the org's portals through the API (the first 1,000).
func (h *Handler) listPortals(r *http.Request, u store.User) ([]portalJSON, error) {
	var page struct{ Data []portalJSON }
	err := h.call(r, u, http.MethodGet, "/v3/portals?page%5Bsize%5D=100", nil, &page)
	return page.Data, err
}

func (h *Handler) pageWebhooks(w http.ResponseWriter, r *http.Request, u store.User) {
	h.renderWebhooks(w, r, u, h.newPage(w, r, u, "Webhooks"), http.StatusOK)
}

func (h *Handler) renderWebhooks(w http.ResponseWriter, r *http.Request, u store.User, d pageData, status int) {
	if r.URL.Query().Get("m") == "saved" {
		d.Notice = "The webhook was saved."
	}
	data, err := h.webhooksData(r, u)
	if err != nil {
		status = h.showError(r, &d, err)
	}
	d.Data = data
	h.render(w, r, status, "webhooks", d)
}

func (h *Handler) webhooksData(r *http.Request, u store.User) (webhooksData, error) {
	var data webhooksData
	var got struct{ Data []webhookSummary }
	if err := h.call(r, u, http.MethodGet, "/v1/webhooks", nil, &got); err != nil {
		return data, err
	}
	dests, err := h.listDestinations(r, u)
	if err != nil {
		return data, err
	}
	data.Destinations = dests
	portals, err := h.listPortals(r, u)
	if err != nil && !apperr.Is(err, apperr.Forbidden) {
		return data, err
	}
	byStream := map[string]webhookSummary{}
	for _, x := range got.Data {
		byStream[x.Stream] = x
	}
	add := func(stream, key, label, action string) error {
		x, ok := byStream[stream]
		row := webhookRow{Key: key, Label: label, Action: action, Status: store.StatusUnconfigured}
		if ok {
			row.Status, row.DestinationID, row.DestinationName, row.Enabled = x.Status, x.DestinationID, x.DestinationName, x.Enabled
		}
		as, err := h.st.ListAttempts(r.Context(), store.StreamID(stream), h.clk.Now().Add(-store.AttemptHistory), 10)
		if err != nil {
			return err
		}
		for _, a := range as {
			row.Attempts = append(row.Attempts, attemptRow{At: a.At.UTC().Format(time.RFC3339), Code: a.ResponseCode, OK: a.OK})
		}
		data.Rows = append(data.Rows, row)
		return nil
	}
	if err := add(u.OrgID, "org", "Org webhook", "/webhooks/org"); err != nil {
		return data, err
	}
	for _, p := range portals {
		if err := add(p.ID, "portal-"+p.ID, "Portal "+p.Name, "/webhooks/portal/"+p.ID); err != nil {
			return data, err
		}
	}
	return data, nil
}

// pageWebhookSave sets a webhook's destination and enabled flag through
// the API's PATCH of that webhook.
func (h *Handler) pageWebhookSave(w http.ResponseWriter, r *http.Request, u store.User) {
	path, key := "/v3/audit-log-webhook", "org"
	if id := r.PathValue("portal"); id != "" {
		path, key = "/v3/portals/"+url.PathEscape(id)+"/audit-log-webhook", "portal-"+id
	}
	body := map[string]any{"enabled": r.PostForm.Get("enabled") == "true"}
	if dest := r.PostForm.Get("destination"); dest != "" {
		body["audit_log_destination_id"] = dest
	}
	if err := h.call(r, u, http.MethodPatch, path, body, nil); err != nil {
		d := h.newPage(w, r, u, "Webhooks")
		status := h.showError(r, &d, err)
		// The webhook's form has one field: its errors go beside it.
		for k, v := range d.FieldErrors {
			delete(d.FieldErrors, k)
			d.FieldErrors[key] = v
		}
		h.renderWebhooks(w, r, u, d, status)
		return
	}
	http.Redirect(w, r, "/webhooks?m=saved", http.StatusSeeOther)
}
