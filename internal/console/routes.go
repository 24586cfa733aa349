package console

import "net/http"

// pageRoutes installs the pages behind the log-in. Writes are POSTs of
// forms (CSRF-checked in withUser).
func (h *Handler) pageRoutes(mux *http.ServeMux) {
	for _, p := range []struct {
		pattern string
		page    pageFunc
	}{
		{"GET /destinations", h.pageDestinations},
		{"POST /destinations", h.pageDestinationCreate},
		{"GET /destinations/{id}", h.pageDestination},
		{"POST /destinations/{id}", h.pageDestinationUpdate},
		{"POST /destinations/{id}/delete", h.pageDestinationDelete},
		{"GET /webhooks", h.pageWebhooks},
		{"POST /webhooks/org", h.pageWebhookSave},
		{"POST /webhooks/portal/{portal}", h.pageWebhookSave},
		{"GET /log", h.pageLog},
		{"GET /log/export", h.pageLogExport},
		{"GET /replay", h.pageReplay},
		{"POST /replay", h.pageReplayStart},
		{"GET /portals", h.pagePortals},
		{"POST /portals/{portal}/developers/{dev}/status", h.pageDeveloperStatus},
		{"POST /portals/{portal}/developers/{dev}/unlock", h.pageDeveloperUnlock},
		{"GET /keys", h.pageKeys},
		{"POST /keys/rotate", h.pageKeysRotate},
		{"GET /tokens", h.pageTokens},
		{"POST /tokens", h.pageTokenCreate},
		{"POST /tokens/{id}/revoke", h.pageTokenRevoke},
		{"GET /users", h.pageUsers},
		{"POST /users", h.pageUserCreate},
		{"POST /users/{id}/{op}", h.pageUserChange},
	} {
		mux.HandleFunc(p.pattern, h.withUser(p.page))
	}
}
