package api

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// TestNoRedirectsForUncleanPaths: ServeMux answers a path with an empty,
// "." or ".." segment (an empty ID: /v3/portals//audit-log-webhook) with a
// redirect and an HTML body. The API answers a problem+json 404 instead.
func TestNoRedirectsForUncleanPaths(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	_, tok := h.org("o")
	client := *h.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, method := range []string{http.MethodGet, http.MethodPatch, http.MethodDelete} {
		for _, p := range []string{
			"/v3/portals//audit-log-webhook", "//v3/portals", "/v3/./portals", "/v3/audit-log-destinations/x/..",
			"/v3/portals/../audit-log-destinations", "/v2//audit-log-webhook/jwks.json",
		} {
			req, _ := http.NewRequest(method, h.srv.URL+p, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			var prob struct {
				Status int `json:"status"`
			}
			if res.StatusCode != 404 || res.Header.Get("Content-Type") != "application/problem+json" ||
				res.Header.Get("Location") != "" || json.Unmarshal(body, &prob) != nil || prob.Status != 404 {
				t.Errorf("%s %s: %d %s Location=%q: %s", method, p, res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Location"), body)
			}
		}
	}
}
