package api

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/sigtrail/sigtrail/internal/store"
)

// TestSeedHowTo runs the API steps of Kong's "Collect Dev Portal audit
// logs" how-to verbatim against sigtrail.
func TestSeedHowTo(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	_, token := h.org("acme-corp")

	// Prerequisite: a Dev Portal.
	var portal struct {
		ID            string `json:"id"`
		DefaultDomain string `json:"default_domain"`
	}
	h.call(http.MethodPost, "/v3/portals", token, map[string]any{"name": "acme"}).expect(t, http.StatusCreated).decode(t, &portal)
	if portal.DefaultDomain != "acme.localhost" {
		t.Errorf("default_domain %q, want acme.localhost", portal.DefaultDomain)
	}

	// Set up the audit log destination.
	const siemToken = "Basic c2llbS1zZWNyZXQtdG9rZW4="
	res := h.call(http.MethodPost, "/v3/audit-log-destinations", token, map[string]any{
		"endpoint":      "https://collectors.sumologic.com/receiver/v1/http/abc",
		"authorization": siemToken,
		"log_format":    "cef",
		"name":          "Example destination",
	}).expect(t, http.StatusCreated)
	if bytes.Contains(res.Body, []byte(siemToken)) {
		t.Fatalf("authorization leaked: %s", res.Body)
	}
	var dest struct {
		ID string `json:"id"`
	}
	res.decode(t, &dest)

	// Enable the webhook on the Dev Portal.
	res = h.call(http.MethodPatch, "/v3/portals/"+portal.ID+"/audit-log-webhook", token, map[string]any{
		"audit_log_destination_id": dest.ID,
		"enabled":                  true,
	}).expect(t, http.StatusOK)
	var hook struct {
		DestinationID string `json:"audit_log_destination_id"`
		Enabled       bool   `json:"enabled"`
	}
	res.decode(t, &hook)
	if hook.DestinationID != dest.ID || !hook.Enabled {
		t.Fatalf("webhook %+v", hook)
	}
	if h.hooks.changed(store.StreamID(portal.ID)) != 1 {
		t.Errorf("delivery was not told about the new webhook")
	}
	var status statusJSON
	h.call(http.MethodGet, "/v3/portals/"+portal.ID+"/audit-log-webhook/status", token, nil).expect(t, http.StatusOK).decode(t, &status)
	if status.WebhookStatus != "active" || !status.WebhookEnabled || status.LastAttemptAt != nil {
		t.Errorf("status %+v, want active, enabled, never attempted", status)
	}
}
