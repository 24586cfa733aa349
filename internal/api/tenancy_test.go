package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/sigtrail/sigtrail/internal/store"
)

// TestTenancyWalk walks every route with a foreign org's token and the
// IDs of another org's resources: nothing of the victim may come back and
// nothing of it may change.
func TestTenancyWalk(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	victim := h.fixture(t, "victim")
	attacker := h.fixture(t, "attacker")
	secrets := [][]byte{[]byte(victim.org), []byte(victim.destID), []byte(victim.portalID), []byte(victim.devID),
		[]byte(victim.destName), []byte("portal-of-victim"), []byte("dev@victim.example"), []byte("developers.victim.example"), []byte("s3cret")}

	// Bodies that would succeed on the attacker's own resources.
	bodies := map[string]any{
		"POST /v2/audit-log-destinations":                          newDest("x"),
		"POST /v3/audit-log-destinations":                          newDest("y"),
		"PATCH /v2/audit-log-destinations/{auditLogDestinationId}": map[string]any{"name": "taken"},
		"PATCH /v3/audit-log-destinations/{auditLogDestinationId}": map[string]any{"name": "taken"},
		"PATCH /v3/audit-log-webhook":                              map[string]any{"audit_log_destination_id": victim.destID, "enabled": true},
		"PATCH /v2/audit-log-webhook":                              map[string]any{"enabled": false},
		"POST /v3/portals":                                         map[string]any{"name": "portal-of-victim"},
		"PATCH /v3/portals/{portalId}":                             map[string]any{"display_name": "taken"},
		"PATCH /v3/portals/{portalId}/audit-log-webhook":           map[string]any{"audit_log_destination_id": attacker.destID, "enabled": false},
		"PATCH /v3/portals/{portalId}/developers/{developerId}":    map[string]any{"status": "revoked"},
		"POST /v3/portals/{portalId}/custom-domain":                map[string]any{"hostname": "taken.example.com", "enabled": true, "ssl": map[string]any{"domain_verification_method": "http"}},
		"PATCH /v3/portals/{portalId}/custom-domain":               map[string]any{"enabled": true},
		"PUT /v2/audit-log-replay-job":                             map[string]any{"start_at": "2026-03-01T11:00:00Z", "end_at": "2026-03-01T11:30:00Z"},
		"PUT /v3/audit-log-replay-job":                             map[string]any{"start_at": "2026-03-01T11:00:00Z", "end_at": "2026-03-01T11:30:00Z"},
		"PUT /v3/portals/{portalId}/audit-log-replay-job":          map[string]any{"start_at": "2026-03-01T11:00:00Z", "end_at": "2026-03-01T11:30:00Z"},
	}
	walked := 0
	var sentSoFar []byte // the attacker's own log may echo what it sent
	for _, rt := range h.api.routes() {
		if rt.auth == authNone {
			continue
		}
		walked++
		key := rt.method + " " + rt.path
		path := victim.path(rt.path)
		res := h.call(rt.method, path, attacker.token, bodies[key])
		sent, _ := json.Marshal(bodies[key])
		sentSoFar = append(append(append(sentSoFar, path...), ' '), sent...)
		for _, s := range secrets {
			// What the attacker sent may be echoed ("Portal <id> not found").
			if bytes.Contains(sentSoFar, s) {
				continue
			}
			if bytes.Contains(res.Body, s) {
				t.Errorf("%s answered %d with the victim's %q: %s", key, res.Status, s, res.Body)
			}
		}
		if strings.Contains(rt.path, "{") && res.Status != http.StatusNotFound && res.Status != http.StatusForbidden {
			t.Errorf("%s with the victim's IDs: %d, want 404 or 403: %s", key, res.Status, res.Body)
		}
	}
	if walked < 25 {
		t.Fatalf("walked only %d routes", walked)
	}

	// The victim's things are as they were.
	ctx := t.Context()
	d, err := h.st.GetDestination(ctx, victim.org, victim.destID)
	if err != nil || d.Name != victim.destName {
		t.Errorf("victim destination %+v %v", d, err)
	}
	p, err := h.st.GetPortal(ctx, victim.org, victim.portalID)
	if err != nil || p.DisplayName != "portal-of-victim" || p.CustomDomain != "developers.victim.example" {
		t.Errorf("victim portal %+v %v", p, err)
	}
	dev, err := h.st.GetDeveloper(ctx, victim.portalID, victim.devID)
	if err != nil || dev.Status != store.DeveloperApproved {
		t.Errorf("victim developer %+v %v", dev, err)
	}
	for _, s := range []store.StreamID{store.StreamID(victim.org), store.StreamID(victim.portalID)} {
		w, err := h.st.GetWebhook(ctx, s)
		if err != nil || w.DestinationID != victim.destID || !w.Enabled {
			t.Errorf("victim webhook %s: %+v %v", s, w, err)
		}
	}
	// Nor does anything of the attacker's now point at the victim's
	// destination (its endpoint and authorization would carry the
	// attacker's logs).
	for _, s := range []store.StreamID{store.StreamID(attacker.org), store.StreamID(attacker.portalID)} {
		if w, err := h.st.GetWebhook(ctx, s); err == nil && w.DestinationID == victim.destID {
			t.Errorf("attacker webhook %s uses the victim's destination", s)
		}
	}
	// And none of the attacker's requests landed in the victim's log.
	for _, e := range h.entries(victim.org) {
		if e.Entry.OrgID != victim.org {
			t.Errorf("victim log holds %+v", e.Entry)
		}
	}
}
