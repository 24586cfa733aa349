package api

import (
	"net/http"
	"testing"
)

// BenchmarkAuditedRequest measures one authenticated management request
// end to end over HTTP: token lookup, the authentication and authorization
// entries appended durably before the handler, the access entry before the
// answer (two group-committed appends to SQLite).
func BenchmarkAuditedRequest(b *testing.B) {
	h := newHarness(b, Config{})
	_, tok := h.org("o")
	req, err := http.NewRequest(http.MethodGet, h.srv.URL+"/v3/audit-log-webhook/status", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	client := h.srv.Client()
	b.ResetTimer()
	for b.Loop() {
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}
