package api

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

func TestOrgWebhook(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	org, tok := h.org("o")
	stream := store.StreamID(org)
	var d destOut
	h.call(http.MethodPost, "/v3/audit-log-destinations", tok, newDest("d")).expect(t, http.StatusCreated).decode(t, &d)

	h.call(http.MethodGet, "/v3/audit-log-webhook", tok, nil).problem(t, http.StatusNotFound)
	for _, p := range []string{"/v3/audit-log-webhook/status", "/v2/audit-log-webhook/status"} {
		var st statusJSON
		h.call(http.MethodGet, p, tok, nil).expect(t, http.StatusOK).decode(t, &st)
		if st.WebhookStatus != "unconfigured" || st.WebhookEnabled {
			t.Fatalf("%s: %+v, want unconfigured", p, st)
		}
	}
	// Enabling with no destination anywhere is a 400; so are a malformed id
	// and an id that names no destination of this org.
	for _, body := range []map[string]any{
		{"enabled": true},
		{"audit_log_destination_id": "not-a-uuid", "enabled": true},
		{"audit_log_destination_id": "0193d4a8-9b8e-7c4f-8a4e-1e2f3a4b5c6d", "enabled": true},
	} {
		h.call(http.MethodPatch, "/v3/audit-log-webhook", tok, body).problem(t, http.StatusBadRequest)
	}
	if h.hooks.changed(stream) != 0 {
		t.Fatal("a refused change reached delivery")
	}
	var w webhookJSON
	h.call(http.MethodPatch, "/v3/audit-log-webhook", tok, map[string]any{"audit_log_destination_id": d.ID, "enabled": true}).
		expect(t, http.StatusOK).decode(t, &w)
	if w.DestinationID == nil || *w.DestinationID != d.ID || !w.Enabled {
		t.Fatalf("webhook %+v", w)
	}
	// A later PATCH may name only what changes.
	h.call(http.MethodPatch, "/v3/audit-log-webhook", tok, map[string]any{"enabled": false}).expect(t, http.StatusOK).decode(t, &w)
	if w.DestinationID == nil || *w.DestinationID != d.ID || w.Enabled {
		t.Fatalf("webhook after disabling %+v", w)
	}
	if h.hooks.changed(stream) != 2 {
		t.Fatalf("delivery told %d times, want 2", h.hooks.changed(stream))
	}

	// The status follows the delivery state the dispatcher stores.
	at := epoch.Add(time.Minute)
	if err := h.st.RecordAttempt(t.Context(), stream, store.NoFence, store.Attempt{At: at, ResponseCode: 401, Message: "Unauthenticated"}); err != nil {
		t.Fatal(err)
	}
	var st statusJSON
	h.call(http.MethodGet, "/v3/audit-log-webhook/status", tok, nil).expect(t, http.StatusOK).decode(t, &st)
	if st.WebhookStatus != "inactive" || st.WebhookEnabled || st.LastAttemptAt == nil || !st.LastAttemptAt.Equal(at) ||
		*st.LastResponseCode != 401 || *st.LastResponseMessage != "Unauthenticated" {
		t.Fatalf("status %+v", st)
	}
	if err := h.st.RecordAttempt(t.Context(), stream, store.NoFence, store.Attempt{At: at.Add(time.Second), ResponseCode: 200, Message: "OK", OK: true}); err != nil {
		t.Fatal(err)
	}
	h.call(http.MethodGet, "/v2/audit-log-webhook/status", tok, nil).expect(t, http.StatusOK).decode(t, &st)
	if st.WebhookStatus != "active" || *st.LastResponseCode != 200 {
		t.Fatalf("status after a 2xx %+v", st)
	}

	h.call(http.MethodDelete, "/v3/audit-log-webhook", tok, nil).expect(t, http.StatusNoContent)
	h.call(http.MethodDelete, "/v3/audit-log-webhook", tok, nil).expect(t, http.StatusNoContent)
	h.call(http.MethodGet, "/v3/audit-log-webhook", tok, nil).problem(t, http.StatusNotFound)
	st = statusJSON{}
	h.call(http.MethodGet, "/v3/audit-log-webhook/status", tok, nil).expect(t, http.StatusOK).decode(t, &st)
	if st.WebhookStatus != "unconfigured" {
		t.Fatalf("status after delete %+v", st)
	}
}

func TestLegacyWebhook(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	org, tok := h.org("o")
	var lw legacyWebhookJSON
	h.call(http.MethodGet, "/v2/audit-log-webhook", tok, nil).expect(t, http.StatusOK).decode(t, &lw)
	if lw.Endpoint != "unconfigured" || lw.Enabled {
		t.Fatalf("unconfigured v2 webhook %+v", lw)
	}
	res := h.call(http.MethodGet, "/v2/audit-log-webhook", tok, nil)
	if string(bytes.TrimSpace(res.Body)) != `{"endpoint":"unconfigured","enabled":false}` {
		t.Errorf("unconfigured body %s", res.Body)
	}
	// Disabling what is not there changes nothing.
	h.call(http.MethodPatch, "/v2/audit-log-webhook", tok, map[string]any{"enabled": false}).expect(t, http.StatusOK)
	h.call(http.MethodPatch, "/v2/audit-log-webhook", tok, map[string]any{"enabled": true}).problem(t, http.StatusBadRequest)
	h.call(http.MethodPatch, "/v2/audit-log-webhook", tok, map[string]any{"endpoint": "https://siem.example.com/v2", "enabled": true}).
		problem(t, http.StatusBadRequest) // authorization cannot be blank

	res = h.call(http.MethodPatch, "/v2/audit-log-webhook", tok, map[string]any{
		"endpoint": "https://siem.example.com/v2", "authorization": "Splunk legacy-secret", "log_format": "json", "enabled": true,
	}).expect(t, http.StatusOK)
	if bytes.Contains(res.Body, []byte("legacy-secret")) {
		t.Fatalf("authorization leaked: %s", res.Body)
	}
	res.decode(t, &lw)
	if lw.Endpoint != "https://siem.example.com/v2" || !lw.Enabled || lw.LogFormat != "json" {
		t.Fatalf("v2 webhook %+v", lw)
	}
	// The inline destination is the org webhook's, seen by v3 too, but not
	// listed or addressable among the org's destinations.
	var w webhookJSON
	h.call(http.MethodGet, "/v3/audit-log-webhook", tok, nil).expect(t, http.StatusOK).decode(t, &w)
	if w.DestinationID == nil || !w.Enabled {
		t.Fatalf("v3 view %+v", w)
	}
	legacyID := *w.DestinationID
	var l destList
	h.call(http.MethodGet, "/v3/audit-log-destinations", tok, nil).expect(t, http.StatusOK).decode(t, &l)
	if len(l.Data) != 0 {
		t.Fatalf("legacy destination listed: %+v", l.Data)
	}
	h.call(http.MethodGet, "/v3/audit-log-destinations/"+legacyID, tok, nil).problem(t, http.StatusNotFound)
	d, err := h.st.GetDestination(t.Context(), org, legacyID)
	if err != nil || d.Authorization != "Splunk legacy-secret" || !d.Legacy {
		t.Fatalf("stored legacy destination %+v %v", d, err)
	}
	// Toggling enabled keeps the destination; editing it keeps the secret
	// (another origin only when confirmed, see origin_test.go).
	h.call(http.MethodPatch, "/v2/audit-log-webhook", tok, map[string]any{"enabled": false}).expect(t, http.StatusOK).decode(t, &lw)
	if lw.Enabled || lw.Endpoint != "https://siem.example.com/v2" {
		t.Fatalf("after disabling %+v", lw)
	}
	h.call(http.MethodPatch, "/v2/audit-log-webhook", tok, map[string]any{"endpoint": "https://siem2.example.com/", "keep_authorization_on_origin_change": true}).expect(t, http.StatusOK)
	if d, _ := h.st.GetDestination(t.Context(), org, legacyID); d.Endpoint != "https://siem2.example.com/" || d.Authorization != "Splunk legacy-secret" {
		t.Fatalf("edited legacy destination %+v", d)
	}
	// Moving the webhook to a v3 destination drops the inline one; v2 then
	// shows the v3 destination.
	var nd destOut
	h.call(http.MethodPost, "/v3/audit-log-destinations", tok, newDest("n")).expect(t, http.StatusCreated).decode(t, &nd)
	h.call(http.MethodPatch, "/v3/audit-log-webhook", tok, map[string]any{"audit_log_destination_id": nd.ID}).expect(t, http.StatusOK)
	if _, err := h.st.GetDestination(t.Context(), org, legacyID); err == nil {
		t.Error("the unused legacy destination was left behind")
	}
	h.call(http.MethodGet, "/v2/audit-log-webhook", tok, nil).expect(t, http.StatusOK).decode(t, &lw)
	if lw.Endpoint != "https://siem.example.com/in" || lw.LogFormat != "json" {
		t.Fatalf("v2 view of a v3 destination %+v", lw)
	}
	// Editing through v2 now copies into a new inline destination and leaves
	// the shared v3 one alone.
	h.call(http.MethodPatch, "/v2/audit-log-webhook", tok, map[string]any{"log_format": "cef"}).expect(t, http.StatusOK).decode(t, &lw)
	if lw.LogFormat != "cef" || lw.Endpoint != "https://siem.example.com/in" {
		t.Fatalf("v2 edit %+v", lw)
	}
	var still destOut
	h.call(http.MethodGet, "/v3/audit-log-destinations/"+nd.ID, tok, nil).expect(t, http.StatusOK).decode(t, &still)
	if still.LogFormat != "json" {
		t.Fatalf("v2 edit changed the shared destination: %+v", still)
	}
}

func TestPortalWebhook(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	_, tok := h.org("o")
	_, otherTok := h.org("other")
	var p portalJSON
	h.call(http.MethodPost, "/v3/portals", tok, map[string]any{"name": "dev"}).expect(t, http.StatusCreated).decode(t, &p)
	var foreign destOut
	h.call(http.MethodPost, "/v3/audit-log-destinations", otherTok, newDest("f")).expect(t, http.StatusCreated).decode(t, &foreign)
	base := "/v3/portals/" + p.ID + "/audit-log-webhook"

	res := h.call(http.MethodGet, base, tok, nil).expect(t, http.StatusOK)
	if string(bytes.TrimSpace(res.Body)) != `{"enabled":false}` {
		t.Fatalf("unconfigured portal webhook %s", res.Body)
	}
	h.call(http.MethodPatch, base, tok, map[string]any{"enabled": true}).problem(t, http.StatusBadRequest)
	h.call(http.MethodPatch, base, tok, map[string]any{"audit_log_destination_id": foreign.ID, "enabled": true}).problem(t, http.StatusBadRequest)
	// Disabling what was never set up is already done, and stores nothing.
	res = h.call(http.MethodPatch, base, tok, map[string]any{"enabled": false}).expect(t, http.StatusOK)
	if string(bytes.TrimSpace(res.Body)) != `{"enabled":false}` {
		t.Fatalf("disable an unconfigured portal webhook: %s", res.Body)
	}
	if _, err := h.st.GetWebhook(t.Context(), store.StreamID(p.ID)); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("disabling stored a webhook: %v", err)
	}
	var d destOut
	h.call(http.MethodPost, "/v3/audit-log-destinations", tok, newDest("d")).expect(t, http.StatusCreated).decode(t, &d)
	var w webhookJSON
	h.call(http.MethodPatch, base, tok, map[string]any{"audit_log_destination_id": d.ID}).expect(t, http.StatusOK).decode(t, &w)
	if w.Enabled || *w.DestinationID != d.ID {
		t.Fatalf("webhook %+v (enabled defaults to false)", w)
	}
	h.call(http.MethodPatch, base, tok, map[string]any{"enabled": true}).expect(t, http.StatusOK).decode(t, &w)
	if !w.Enabled {
		t.Fatal("not enabled")
	}
	var st statusJSON
	h.call(http.MethodGet, base+"/status", tok, nil).expect(t, http.StatusOK).decode(t, &st)
	if st.WebhookStatus != "active" || !st.WebhookEnabled {
		t.Fatalf("status %+v", st)
	}
	// The org webhook is a different one.
	h.call(http.MethodGet, "/v3/audit-log-webhook", tok, nil).problem(t, http.StatusNotFound)
	h.call(http.MethodDelete, base, tok, nil).expect(t, http.StatusNoContent)
	h.call(http.MethodGet, base+"/status", tok, nil).expect(t, http.StatusOK).decode(t, &st)
	if st.WebhookStatus != "unconfigured" {
		t.Fatalf("status after delete %+v", st)
	}
	if n := h.hooks.changed(store.StreamID(p.ID)); n != 3 {
		t.Fatalf("delivery told %d times, want 3", n)
	}
	h.call(http.MethodGet, "/v3/portals/0193d4a8-9b8e-7c4f-8a4e-1e2f3a4b5c6d/audit-log-webhook", tok, nil).problem(t, http.StatusNotFound)
	h.call(http.MethodGet, "/v3/portals/nope/audit-log-webhook", tok, nil).problem(t, http.StatusBadRequest)
}
