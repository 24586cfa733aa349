package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

func TestWebhookSummaries(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	org, tok := h.org("o")
	var d destOut
	h.call(http.MethodPost, "/v3/audit-log-destinations", tok, newDest("d")).expect(t, http.StatusCreated).decode(t, &d)
	var p struct{ ID string }
	h.call(http.MethodPost, "/v3/portals", tok, map[string]any{"name": "acme"}).expect(t, http.StatusCreated).decode(t, &p)
	h.call(http.MethodPatch, "/v3/audit-log-webhook", tok, map[string]any{"audit_log_destination_id": d.ID, "enabled": true}).expect(t, http.StatusOK)
	h.call(http.MethodPatch, "/v3/portals/"+p.ID+"/audit-log-webhook", tok, map[string]any{"audit_log_destination_id": d.ID, "enabled": false}).expect(t, http.StatusOK)
	if err := h.st.RecordAttempt(context.Background(), store.StreamID(org), store.NoFence, store.Attempt{At: epoch, ResponseCode: 500}); err != nil {
		t.Fatal(err)
	}
	var got struct{ Data []webhookSummaryJSON }
	h.call(http.MethodGet, "/v1/webhooks", tok, nil).expect(t, http.StatusOK).decode(t, &got)
	if len(got.Data) != 2 {
		t.Fatalf("summaries = %+v", got.Data)
	}
	o, pw := got.Data[0], got.Data[1]
	// The org stream held the requests above when the webhook was created,
	// and their audit entries since: some wait.
	if o.Stream != org || o.Status != store.StatusInactive || o.LastCode != 500 || o.DestinationName != "d" || !o.Enabled || o.EntriesWaiting <= 0 || o.LastAttemptAt == nil {
		t.Errorf("org webhook = %+v", o)
	}
	if pw.PortalID != p.ID || pw.PortalName != "acme" || pw.Status != store.StatusActive || pw.Enabled || pw.EntriesWaiting != 0 || pw.LastAttemptAt != nil {
		t.Errorf("portal webhook = %+v", pw)
	}
	h.call(http.MethodGet, "/v1/webhooks", h.token(org, store.RolePortalAdmin, false, 0), nil).problem(t, http.StatusForbidden)
	h.call(http.MethodGet, "/v1/webhooks", h.token(org, store.RoleReadOnly, false, 0), nil).expect(t, http.StatusOK)
}

// A console session's Principal is served as its user: authorised by the
// user's role, audited with authorization and access entries naming the
// user and no authentication entry (the log-in was audited).
func TestPrincipalServedAsUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	org, _ := h.org("o")
	const user = "0193d4a8-9b8e-7c4f-8a4e-000000000001"
	serve := func(role store.Role, method, path string) int {
		req := httptest.NewRequestWithContext(WithPrincipal(context.Background(), Principal{UserID: user, OrgID: org, Role: role}), method, path, nil)
		rec := httptest.NewRecorder()
		h.api.ServeHTTP(rec, req)
		return rec.Code
	}
	before := len(h.entries(org))
	if got := serve(store.RoleReadOnly, http.MethodGet, "/v3/audit-log-destinations"); got != http.StatusOK {
		t.Fatalf("read-only GET = %d", got)
	}
	if got := serve(store.RoleReadOnly, http.MethodDelete, "/v3/audit-log-webhook"); got != http.StatusForbidden {
		t.Fatalf("read-only DELETE = %d, want 403", got)
	}
	es := h.entries(org)[before:]
	var kinds []audit.Kind
	for _, e := range es {
		kinds = append(kinds, e.Entry.Kind)
		if e.Entry.PrincipalID != user {
			t.Errorf("entry %+v does not name the user", e.Entry)
		}
	}
	want := []audit.Kind{audit.KindAuthorization, audit.KindAccess, audit.KindAuthorization, audit.KindAccess}
	if len(kinds) != len(want) {
		t.Fatalf("entries %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("entries %v, want %v", kinds, want)
		}
	}
	if es[2].Entry.Granted {
		t.Error("the refused delete was recorded as granted")
	}
	// A request from the network cannot claim a principal: with no token
	// it is refused.
	h.call(http.MethodGet, "/v3/audit-log-destinations", "", nil).problem(t, http.StatusUnauthorized)
}

func TestPortalAuditLogPull(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	org, tok := h.org("o")
	_, otherTok := h.org("other")
	var p, q struct{ ID string }
	h.call(http.MethodPost, "/v3/portals", tok, map[string]any{"name": "acme"}).expect(t, http.StatusCreated).decode(t, &p)
	h.call(http.MethodPost, "/v3/portals", otherTok, map[string]any{"name": "rival"}).expect(t, http.StatusCreated).decode(t, &q)
	var entries []store.NewEntry
	for i := range 3 {
		entries = append(entries, store.NewEntry{Stream: store.StreamID(p.ID), Entry: audit.Entry{Kind: audit.KindAuthentication, Time: epoch.Add(-time.Duration(i) * time.Minute),
			Product: audit.ProductDevPortal, ClassID: audit.AuthTypeBasic, Name: string(audit.OutcomeSuccess), OrgID: org, PortalID: p.ID, PrincipalID: "dev", Request: "/login"}})
	}
	if _, err := h.st.Append(context.Background(), entries); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Data []map[string]any
	}
	h.call(http.MethodGet, "/v3/portals/"+p.ID+"/audit-logs?page%5Bsize%5D=2", h.token(org, store.RolePortalAdmin, false, 0), nil).expect(t, http.StatusOK).decode(t, &got)
	if len(got.Data) != 2 || got.Data[0]["portal_id"] != p.ID || got.Data[0]["signature"] == "" {
		t.Fatalf("portal log page = %+v", got.Data)
	}
	h.call(http.MethodGet, "/v3/portals/"+q.ID+"/audit-logs", tok, nil).problem(t, http.StatusNotFound)
	h.call(http.MethodGet, "/v3/portals/"+p.ID+"/audit-logs", h.token(org, store.RoleProducer, false, 0), nil).problem(t, http.StatusForbidden)
}
