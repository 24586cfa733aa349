package api

import (
	"context"
	_ "embed"
	"net/http"
	"strconv"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/httpx"
	"github.com/sigtrail/sigtrail/internal/signing"
)

// openAPIDoc is sigtrail's own OpenAPI document, served as written.
//
//go:embed openapi.yaml
var openAPIDoc []byte

// OpenAPI returns sigtrail's OpenAPI document.
func OpenAPI() []byte { return append([]byte(nil), openAPIDoc...) }

// publicRoutes need no token and are not audited: they reveal nothing of
// any org, and probes would otherwise flood the log.
func (s *server) publicRoutes() []route {
	return []route{
		{method: http.MethodGet, path: "/v2/audit-log-webhook/jwks.json", auth: authNone, handle: s.serveJWKS},
		{method: http.MethodGet, path: "/healthz", auth: authNone, handle: s.health},
		{method: http.MethodGet, path: "/metrics", auth: authNone, handle: s.serveMetrics},
		{method: http.MethodGet, path: "/openapi.yaml", auth: authNone, handle: s.serveOpenAPI},
	}
}

// jwksMaxAge is how long a verifier may cache the key set. A rotated key
// is in this replica's JWKS within signing.DefaultReloadEvery and signs
// from signing.ActivationDelay on; a cache must expire in the gap between,
// or a SIEM would reject lines signed by a key it has not fetched yet.
const jwksMaxAge = signing.ActivationDelay - signing.DefaultReloadEvery

func (s *server) serveJWKS(c *call) error {
	body := []byte(`{"keys":[]}`)
	if s.jwks != nil {
		body = s.jwks.JWKS()
	}
	h := c.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(jwksMaxAge/time.Second)))
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = c.w.Write(body)
	return nil
}

// health answers 200 once the server is serving and its store answers.
func (s *server) health(c *call) error {
	ctx, cancel := context.WithTimeout(c.ctx(), 5*time.Second)
	defer cancel()
	if err := s.st.Ping(ctx); err != nil {
		s.log.Error("health check: store does not answer", "trace_id", c.traceID, "err", err)
		return apperr.New(apperr.Unavailable, "The store does not answer")
	}
	httpx.WriteJSON(c.w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (s *server) serveMetrics(c *call) error {
	if s.metrics == nil {
		return apperr.New(apperr.NotFound, "Metrics are not enabled")
	}
	s.metrics.ServeHTTP(c.w, c.r)
	return nil
}

func (s *server) serveOpenAPI(c *call) error {
	c.w.Header().Set("Content-Type", "application/yaml")
	c.w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = c.w.Write(openAPIDoc)
	return nil
}
