package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

// ordering is sigtrail's destination field: best_effort unless set,
// strict when asked, refused when unknown, on v2 and v3 and on the v2
// webhook's inline destination. Every answer is checked against
// openapi.yaml and Kong's specs by the harness.
func TestDestinationOrdering(t *testing.T) {
	t.Parallel()
	type out struct {
		ID       string `json:"id"`
		Ordering string `json:"ordering"`
	}
	for _, v := range []string{"/v2", "/v3"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Config{})
			org, tok := h.org("o")
			base := v + "/audit-log-destinations"
			var d out
			h.call(http.MethodPost, base, tok, newDest("plain")).expect(t, http.StatusCreated).decode(t, &d)
			if d.Ordering != store.OrderingBestEffort {
				t.Fatalf("default ordering %q", d.Ordering)
			}
			body := newDest("strict")
			body["ordering"] = "strict"
			h.call(http.MethodPost, base, tok, body).expect(t, http.StatusCreated).decode(t, &d)
			if d.Ordering != store.OrderingStrict {
				t.Fatalf("created with ordering %q", d.Ordering)
			}
			if got, _ := h.st.GetDestination(t.Context(), org, d.ID); got.Ordering != store.OrderingStrict {
				t.Fatalf("stored ordering %q", got.Ordering)
			}
			h.call(http.MethodPatch, base+"/"+d.ID, tok, map[string]any{"ordering": "best_effort"}).expect(t, http.StatusOK).decode(t, &d)
			h.call(http.MethodGet, base+"/"+d.ID, tok, nil).expect(t, http.StatusOK).decode(t, &d)
			if d.Ordering != store.OrderingBestEffort {
				t.Fatalf("after PATCH ordering %q", d.Ordering)
			}
			for _, bad := range []any{"STRICT", "", "fifo", 1} {
				p := h.call(http.MethodPatch, base+"/"+d.ID, tok, map[string]any{"ordering": bad}).problem(t, http.StatusBadRequest)
				ip, _ := p["invalid_parameters"].([]any)
				if len(ip) != 1 || ip[0].(map[string]any)["field"] != "ordering" {
					t.Fatalf("ordering %v: %v", bad, p)
				}
			}
		})
	}
	t.Run("v2 webhook", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, Config{})
		org, tok := h.org("o")
		var w struct {
			Ordering string `json:"ordering"`
		}
		h.call(http.MethodPatch, "/v2/audit-log-webhook", tok, map[string]any{
			"endpoint": "https://siem.example.com/in", "authorization": "Bearer x", "enabled": true, "ordering": "strict",
		}).expect(t, http.StatusOK).decode(t, &w)
		h.call(http.MethodGet, "/v2/audit-log-webhook", tok, nil).expect(t, http.StatusOK).decode(t, &w)
		if w.Ordering != store.OrderingStrict {
			t.Fatalf("v2 webhook ordering %q", w.Ordering)
		}
		hook, err := h.st.GetWebhook(t.Context(), store.StreamID(org))
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := h.st.GetDestination(t.Context(), org, hook.DestinationID); d.Ordering != store.OrderingStrict {
			t.Fatalf("stored ordering %q", d.Ordering)
		}
		h.call(http.MethodPatch, "/v2/audit-log-webhook", tok, map[string]any{"ordering": "sometimes"}).problem(t, http.StatusBadRequest)
	})
}

// A loss the dispatcher recorded shows on every status route: the org's
// (v2, v3) and a portal's, as lost_entries and last_lost_at.
func TestWebhookStatusShowsLoss(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	org, tok := h.org("o")
	var d destOut
	h.call(http.MethodPost, "/v3/audit-log-destinations", tok, newDest("d")).expect(t, http.StatusCreated).decode(t, &d)
	var p struct {
		ID string `json:"id"`
	}
	h.call(http.MethodPost, "/v3/portals", tok, map[string]any{"name": "acme"}).expect(t, http.StatusCreated).decode(t, &p)
	hooks := map[string]store.StreamID{
		"/v3/audit-log-webhook":                      store.StreamID(org),
		"/v3/portals/" + p.ID + "/audit-log-webhook": store.StreamID(p.ID),
	}
	for path := range hooks {
		h.call(http.MethodPatch, path, tok, map[string]any{"audit_log_destination_id": d.ID, "enabled": true}).expect(t, http.StatusOK)
	}
	status := func(path string) statusJSON {
		t.Helper()
		var st statusJSON
		h.call(http.MethodGet, path, tok, nil).expect(t, http.StatusOK).decode(t, &st)
		return st
	}
	for path := range hooks {
		if st := status(path + "/status"); st.LostEntries == nil || *st.LostEntries != 0 || st.LastLostAt != nil {
			t.Fatalf("%s before any loss: %+v", path, st)
		}
	}
	at := epoch.Add(time.Hour)
	for _, s := range hooks {
		if err := h.st.AdvanceCursor(t.Context(), s, store.NoFence, 10, &store.SeqRange{From: 1, To: 10}); err != nil {
			t.Fatal(err)
		}
		if err := h.st.RecordLoss(t.Context(), s, store.NoFence, store.Loss{Range: store.SeqRange{From: 1, To: 10}, Entries: 7, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	paths := []string{"/v2/audit-log-webhook/status", "/v3/audit-log-webhook/status", "/v3/portals/" + p.ID + "/audit-log-webhook/status"}
	for _, path := range paths {
		st := status(path)
		if st.LostEntries == nil || *st.LostEntries != 7 || st.LastLostAt == nil || !st.LastLostAt.Equal(at) {
			t.Fatalf("%s: %+v, want 7 lost at %v", path, st, at)
		}
	}
}
