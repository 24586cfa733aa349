package api

import (
	"net/http"
	"testing"
	"time"
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

// BenchmarkUnauthenticatedRequest compares a request without a token that
// is audited (budget off: authentication and access entries appended
// durably) with one past its client's audit budget (answered the same
// 401, but no append and no store call while the client's bucket is known
// to be empty).
func BenchmarkUnauthenticatedRequest(b *testing.B) {
	for _, bc := range []struct {
		name   string
		budget UnauthAuditBudget
	}{
		{"audited", UnauthAuditBudget{Burst: -1}},
		{"unaudited", UnauthAuditBudget{Every: time.Hour, Burst: 1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := newHarness(b, Config{UnauthAuditBudget: bc.budget})
			req, err := http.NewRequest(http.MethodGet, h.srv.URL+"/v3/audit-log-webhook/status", nil)
			if err != nil {
				b.Fatal(err)
			}
			client := h.srv.Client()
			do := func() int {
				res, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				res.Body.Close()
				return res.StatusCode
			}
			do() // the burst
			b.ResetTimer()
			for b.Loop() {
				if s := do(); s != http.StatusUnauthorized {
					b.Fatalf("status %d", s)
				}
			}
		})
	}
}
