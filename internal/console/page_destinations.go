package console

import (
	"net/http"
	"net/url"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

type destination struct {
	ID                  string `json:"id"`
	Name                string `json:"name"`
	Endpoint            string `json:"endpoint"`
	LogFormat           string `json:"log_format"`
	SkipSSLVerification bool   `json:"skip_ssl_verification"`
	Ordering            string `json:"ordering"`
}

// listDestinations reads every destination of the org through the API,
// page by page.
func (h *Handler) listDestinations(r *http.Request, u store.User) ([]destination, error) {
	var all []destination
	path := "/v3/audit-log-destinations?page%5Bsize%5D=1000"
	for range 100 {
		var page struct {
			Data []destination
			Meta struct {
				Page struct {
					Next *string `json:"next"`
				} `json:"page"`
			} `json:"meta"`
		}
		if err := h.call(r, u, http.MethodGet, path, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Data...)
		if page.Meta.Page.Next == nil || *page.Meta.Page.Next == "" {
			break
		}
		next, err := url.Parse(*page.Meta.Page.Next)
		if err != nil {
			return nil, apperr.Wrap(err, "next page link")
		}
		path = next.RequestURI()
	}
	return all, nil
}

func (h *Handler) pageDestinations(w http.ResponseWriter, r *http.Request, u store.User) {
	d := h.newPage(w, r, u, "Destinations")
	d.Fields["action"], d.Fields["log_format"], d.Fields["ordering"] = "/destinations", "cef", "best_effort"
	h.renderDestinations(w, r, u, d, http.StatusOK)
}

func (h *Handler) renderDestinations(w http.ResponseWriter, r *http.Request, u store.User, d pageData, status int) {
	list, err := h.listDestinations(r, u)
	if err != nil {
		status = h.showError(r, &d, err)
	}
	d.Data = list
	h.render(w, r, status, "destinations", d)
}

// destinationForm reads the form into the API's body; an empty
// authorization is left out (on an edit the stored one stays: it is
// write-only and never shown).
func destinationForm(r *http.Request, d *pageData) map[string]any {
	f := r.PostForm
	for _, k := range []string{"name", "endpoint", "log_format", "ordering"} {
		d.Fields[k] = f.Get(k)
	}
	skip := f.Get("skip_ssl_verification") == "true"
	if skip {
		d.Fields["skip_ssl_verification"] = "true"
	}
	body := map[string]any{"name": f.Get("name"), "endpoint": f.Get("endpoint"), "log_format": f.Get("log_format"),
		"ordering": f.Get("ordering"), "skip_ssl_verification": skip}
	if a := f.Get("authorization"); a != "" {
		body["authorization"] = a
	}
	return body
}

func (h *Handler) pageDestinationCreate(w http.ResponseWriter, r *http.Request, u store.User) {
	d := h.newPage(w, r, u, "Destinations")
	d.Fields["action"] = "/destinations"
	body := destinationForm(r, &d)
	var created destination
	if err := h.call(r, u, http.MethodPost, "/v3/audit-log-destinations", body, &created); err != nil {
		h.renderDestinations(w, r, u, d, h.showError(r, &d, err))
		return
	}
	http.Redirect(w, r, "/destinations/"+created.ID+"?m=created", http.StatusSeeOther)
}

func (h *Handler) pageDestination(w http.ResponseWriter, r *http.Request, u store.User) {
	id := r.PathValue("id")
	d := h.newPage(w, r, u, "Destination")
	var x destination
	if err := h.call(r, u, http.MethodGet, "/v3/audit-log-destinations/"+url.PathEscape(id), nil, &x); err != nil {
		h.render(w, r, h.showError(r, &d, err), "message", d)
		return
	}
	d.Title = "Destination " + x.Name
	setDestinationFields(&d, x)
	switch r.URL.Query().Get("m") {
	case "created":
		d.Notice = "The destination was created."
	case "saved":
		d.Notice = "Your changes were saved."
	}
	h.render(w, r, http.StatusOK, "destination", d)
}

func setDestinationFields(d *pageData, x destination) {
	d.Fields["id"], d.Fields["action"] = x.ID, "/destinations/"+x.ID
	d.Fields["name"], d.Fields["endpoint"], d.Fields["log_format"], d.Fields["ordering"] = x.Name, x.Endpoint, x.LogFormat, x.Ordering
	if x.SkipSSLVerification {
		d.Fields["skip_ssl_verification"] = "true"
	}
}

func (h *Handler) pageDestinationUpdate(w http.ResponseWriter, r *http.Request, u store.User) {
	id := r.PathValue("id")
	d := h.newPage(w, r, u, "Destination")
	d.Fields["id"], d.Fields["action"] = id, "/destinations/"+id
	body := destinationForm(r, &d)
	if err := h.call(r, u, http.MethodPatch, "/v3/audit-log-destinations/"+url.PathEscape(id), body, nil); err != nil {
		h.render(w, r, h.showError(r, &d, err), "destination", d)
		return
	}
	http.Redirect(w, r, "/destinations/"+id+"?m=saved", http.StatusSeeOther)
}

func (h *Handler) pageDestinationDelete(w http.ResponseWriter, r *http.Request, u store.User) {
	id := r.PathValue("id")
	if err := h.call(r, u, http.MethodDelete, "/v3/audit-log-destinations/"+url.PathEscape(id), nil, nil); err != nil {
		d := h.newPage(w, r, u, "Destination")
		status := h.showError(r, &d, err)
		var x destination
		if h.call(r, u, http.MethodGet, "/v3/audit-log-destinations/"+url.PathEscape(id), nil, &x) == nil {
			setDestinationFields(&d, x)
			h.render(w, r, status, "destination", d)
			return
		}
		h.render(w, r, status, "message", d)
		return
	}
	http.Redirect(w, r, "/destinations", http.StatusSeeOther)
}
