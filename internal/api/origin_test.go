package api

import (
	"net/http"
	"testing"

	"github.com/sigtrail/sigtrail/internal/store"
)

// names reports whether a 400 problem names field in invalid_parameters.
func names(p map[string]any, field string) bool {
	params, _ := p["invalid_parameters"].([]any)
	for _, x := range params {
		if m, _ := x.(map[string]any); m["field"] == field {
			return true
		}
	}
	return false
}

// TestEndpointToAnotherOriginNeedsTheAuthorizationAgain: a PATCH that
// moves a destination to another scheme, host or port without giving its
// authorization would send the stored secret there; it is refused unless
// the caller confirms.
func TestEndpointToAnotherOriginNeedsTheAuthorizationAgain(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"/v2", "/v3"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Config{InsecureDestinations: true})
			org, tok := h.org("o")
			var d destOut
			h.call(http.MethodPost, v+"/audit-log-destinations", tok, newDest("d")).expect(t, http.StatusCreated).decode(t, &d)
			one := v + "/audit-log-destinations/" + d.ID
			stored := func() store.Destination {
				t.Helper()
				got, err := h.st.GetDestination(t.Context(), org, d.ID)
				if err != nil {
					t.Fatal(err)
				}
				return got
			}
			for _, ep := range []string{
				"https://evil.example.net/in",      // host
				"https://siem.example.com:8443/in", // port
				"http://siem.example.com/in",       // scheme
				"https://siem.example.com.evil.example/in",
			} {
				for _, body := range []map[string]any{
					{"endpoint": ep},
					{"endpoint": ep, "keep_authorization_on_origin_change": false},
				} {
					p := h.call(http.MethodPatch, one, tok, body).problem(t, http.StatusBadRequest)
					if !names(p, "authorization") {
						t.Errorf("%v: problem %v does not name authorization", body, p)
					}
				}
				if got := stored(); got.Endpoint != "https://siem.example.com/in" {
					t.Fatalf("a refused change was stored: %s", got.Endpoint)
				}
			}
			// The same origin, spelled differently, keeps the secret.
			for _, ep := range []string{"https://siem.example.com/other", "https://SIEM.example.com:443/in?x=1"} {
				h.call(http.MethodPatch, one, tok, map[string]any{"endpoint": ep}).expect(t, http.StatusOK)
				if got := stored(); got.Endpoint != ep || got.Authorization != "Bearer s3cret-d" {
					t.Fatalf("same-origin change: %+v", got)
				}
			}
			// Another origin with a new authorization, or with the confirmation.
			h.call(http.MethodPatch, one, tok, map[string]any{"endpoint": "https://new.example.org/in", "authorization": "Bearer fresh"}).expect(t, http.StatusOK)
			if got := stored(); got.Endpoint != "https://new.example.org/in" || got.Authorization != "Bearer fresh" {
				t.Fatalf("change with a new authorization: %+v", got)
			}
			h.call(http.MethodPatch, one, tok, map[string]any{"endpoint": "https://other.example.org/in", "keep_authorization_on_origin_change": true}).expect(t, http.StatusOK)
			if got := stored(); got.Endpoint != "https://other.example.org/in" || got.Authorization != "Bearer fresh" {
				t.Fatalf("confirmed change: %+v", got)
			}
			// A destination without authorization has nothing to leak.
			body := newDest("bare")
			delete(body, "authorization")
			var bare destOut
			if r := h.call(http.MethodPost, v+"/audit-log-destinations", tok, body); r.Status == http.StatusCreated {
				r.decode(t, &bare)
				h.call(http.MethodPatch, v+"/audit-log-destinations/"+bare.ID, tok, map[string]any{"endpoint": "https://evil.example.net/in"}).expect(t, http.StatusOK)
			}
			// Turning TLS verification off is the same as a new origin:
			// whoever answers for the host would take the secret.
			p := h.call(http.MethodPatch, one, tok, map[string]any{"skip_ssl_verification": true}).problem(t, http.StatusBadRequest)
			if !names(p, "authorization") || stored().SkipSSLVerification {
				t.Fatalf("skip_ssl_verification alone: problem %v, stored %+v", p, stored())
			}
			h.call(http.MethodPatch, one, tok, map[string]any{"skip_ssl_verification": true, "keep_authorization_on_origin_change": true}).expect(t, http.StatusOK)
			h.call(http.MethodPatch, one, tok, map[string]any{"skip_ssl_verification": false}).expect(t, http.StatusOK)
			// The confirmation means nothing on create.
			body = newDest("c")
			body["keep_authorization_on_origin_change"] = true
			h.call(http.MethodPost, v+"/audit-log-destinations", tok, body).problem(t, http.StatusBadRequest)
		})
	}
}

// TestLegacyWebhookEndpointToAnotherOrigin: the v2 org webhook's inline
// destination follows the same rule, also when it is first made from a
// v3 destination's authorization.
func TestLegacyWebhookEndpointToAnotherOrigin(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	_, tok := h.org("o")
	const hook = "/v2/audit-log-webhook"

	// From a v3 destination: the inline copy would carry its secret away.
	var d destOut
	h.call(http.MethodPost, "/v3/audit-log-destinations", tok, newDest("shared")).expect(t, http.StatusCreated).decode(t, &d)
	h.call(http.MethodPatch, "/v3/audit-log-webhook", tok, map[string]any{"audit_log_destination_id": d.ID, "enabled": true}).expect(t, http.StatusOK)
	p := h.call(http.MethodPatch, hook, tok, map[string]any{"endpoint": "https://evil.example.net/in"}).problem(t, http.StatusBadRequest)
	if !names(p, "authorization") {
		t.Fatalf("problem %v does not name authorization", p)
	}

	h.call(http.MethodPatch, hook, tok, map[string]any{"endpoint": "https://a.example.com/in", "authorization": "Bearer v2-secret"}).expect(t, http.StatusOK)
	h.call(http.MethodPatch, hook, tok, map[string]any{"endpoint": "https://a.example.com/other"}).expect(t, http.StatusOK)
	h.call(http.MethodPatch, hook, tok, map[string]any{"endpoint": "https://b.example.com/in"}).problem(t, http.StatusBadRequest)
	var w legacyWebhookJSON
	h.call(http.MethodGet, hook, tok, nil).expect(t, http.StatusOK).decode(t, &w)
	if w.Endpoint != "https://a.example.com/other" {
		t.Fatalf("a refused change was stored: %s", w.Endpoint)
	}
	h.call(http.MethodPatch, hook, tok, map[string]any{"endpoint": "https://b.example.com/in", "keep_authorization_on_origin_change": true}).expect(t, http.StatusOK)
	h.call(http.MethodPatch, hook, tok, map[string]any{"endpoint": "https://c.example.com/in", "authorization": "Bearer v2-new"}).expect(t, http.StatusOK)
}
