package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestKongClientDetails covers what Kong's own clients rely on: the v2
// org webhook names a v3 destination it sends to, a destination still in
// use is refused with the text Kong's CLI retries on, and the Bearer
// scheme is matched case-insensitively (RFC 7235).
func TestKongClientDetails(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	_, tok := h.org("o")

	var d destinationJSON
	h.call(http.MethodPost, "/v3/audit-log-destinations", tok, map[string]any{
		"name": "siem", "endpoint": "https://siem.example.com/in", "authorization": "Bearer x", "log_format": "cef",
	}).expect(t, http.StatusCreated).decode(t, &d)
	h.call(http.MethodPatch, "/v3/audit-log-webhook", tok, map[string]any{"audit_log_destination_id": d.ID, "enabled": true}).
		expect(t, http.StatusOK)

	var lw legacyWebhookJSON
	h.call(http.MethodGet, "/v2/audit-log-webhook", tok, nil).expect(t, http.StatusOK).decode(t, &lw)
	if lw.DestinationID != d.ID || lw.Endpoint != "https://siem.example.com/in" {
		t.Fatalf("v2 view of a v3 destination: %+v", lw)
	}

	p := h.call(http.MethodDelete, "/v3/audit-log-destinations/"+d.ID, tok, nil).problem(t, http.StatusConflict)
	if detail, _ := p["detail"].(string); !strings.Contains(detail, "destination is in use") {
		t.Fatalf("409 detail %q lacks %q", detail, "destination is in use")
	}

	// Editing the webhook through v2 gives it an inline destination, which
	// has no v3 id to show.
	lw = legacyWebhookJSON{}
	h.call(http.MethodPatch, "/v2/audit-log-webhook", tok, map[string]any{
		"endpoint": "https://other.example.com/in", "authorization": "Bearer y",
	}).expect(t, http.StatusOK).decode(t, &lw)
	if lw.DestinationID != "" {
		t.Fatalf("inline destination shown as %q", lw.DestinationID)
	}
	h.call(http.MethodDelete, "/v3/audit-log-destinations/"+d.ID, tok, nil).expect(t, http.StatusNoContent)

	for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
		res := h.callWith(http.MethodGet, "/v3/portals", "", nil, map[string]string{"Authorization": scheme + " " + tok})
		res.expect(t, http.StatusOK)
	}
	for _, bad := range []string{"Basic " + tok, "Bearer", "Bearer ", tok, "Bearertoken " + tok} {
		h.callWith(http.MethodGet, "/v3/portals", "", nil, map[string]string{"Authorization": bad}).problem(t, http.StatusUnauthorized)
	}
	// Two Authorization headers, even both good, are refused: a proxy in
	// front may have checked the other one.
	for _, pair := range [][2]string{{"Bearer " + tok, "Bearer " + tok}, {"Bearer " + tok, "Bearer stpat_other"}, {"Basic eDp5", "Bearer " + tok}} {
		req, err := http.NewRequest(http.MethodGet, h.srv.URL+"/v3/portals", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Add("Authorization", pair[0])
		req.Header.Add("Authorization", pair[1])
		res, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q and %q: status %d, want 401", pair[0], pair[1], res.StatusCode)
		}
	}
}
