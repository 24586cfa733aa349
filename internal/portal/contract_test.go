package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/sigtrail/sigtrail/internal/kongspecs"
)

// TestDeveloperAPIMatchesTheContract runs every developer endpoint through
// its documented answers and checks each request and answer against Kong's
// dev-portal v2 OpenAPI document (statuses, bodies, problem shapes).
func TestDeveloperAPIMatchesTheContract(t *testing.T) {
	t.Parallel()
	// Beside the repository; missing fails in CI and skips elsewhere.
	path := filepath.Join(kongspecs.Require(t), "dev-portal-v2.yaml")
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const origin = "http://portal.test"
	doc.Servers = openapi3.Servers{{URL: origin}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	opts := &openapi3filter.Options{IncludeResponseStatus: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	call := func(method, p string, body any, want int) response {
		t.Helper()
		r := e.do(e.client, method, p, body, nil)
		if r.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, p, r.StatusCode, want, r.body)
		}
		var raw []byte
		if body != nil {
			raw, _ = json.Marshal(body)
		}
		req, _ := http.NewRequest(method, origin+p, bytes.NewReader(raw))
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Fatalf("%s %s is not in the contract: %v", method, p, err)
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
		if r.StatusCode < 400 {
			if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
				t.Errorf("%s %s: request does not match the contract: %v", method, p, err)
			}
			req.Body = http.NoBody
		}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: r.StatusCode, Header: r.Header, Options: opts}
		out.SetBodyBytes(r.body)
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			t.Errorf("%s %s -> %d does not match the contract: %v\nbody: %s", method, p, r.StatusCode, err, r.body)
		}
		return r
	}

	call("POST", "/api/v2/developer", map[string]string{"email": "jane@example.com", "full_name": "Jane Doe"}, 201)
	call("POST", "/api/v2/developer", map[string]string{"email": "jane@example.com"}, 400)
	_, token := mailLink(t, e.nextMail())
	call("POST", "/api/v2/developer/verify-email", map[string]string{"token": "not-a-uuid"}, 400)
	call("POST", "/api/v2/developer/verify-email", map[string]string{"token": "c8efd006-d8e1-4743-b91b-f163b9eae06a"}, 404)
	r := call("POST", "/api/v2/developer/verify-email", map[string]string{"token": token}, 202)
	var v struct{ Token string }
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatal(err)
	}
	call("POST", "/api/v2/developer/reset-password", map[string]string{"token": v.Token, "password": "short"}, 400)
	call("POST", "/api/v2/developer/reset-password", map[string]string{"token": v.Token, "password": testPassword}, 204)
	call("POST", "/api/v2/developer/reset-password", map[string]string{"token": v.Token, "password": testPassword}, 404)
	call("POST", "/api/v2/developer/forgot-password", map[string]string{"email": "jane@example.com"}, 200)
	_, reset := mailLink(t, e.nextMail())
	e.clk.Advance(2 * time.Hour)
	call("POST", "/api/v2/developer/reset-password", map[string]string{"token": reset, "password": testPassword}, 410)

	call("GET", "/api/v2/developer/me", nil, 401)
	call("POST", "/api/v2/developer/authenticate", map[string]string{"username": "jane@example.com"}, 400)
	call("POST", "/api/v2/developer/authenticate", map[string]string{"username": "jane@example.com", "password": "wrong password"}, 401)
	call("POST", "/api/v2/developer/authenticate", map[string]string{"username": "jane@example.com", "password": testPassword}, 204)
	call("GET", "/api/v2/developer/me", nil, 200)
	call("POST", "/api/v2/developer/refresh", nil, 204)
	e.clk.Advance(2 * time.Hour)
	call("GET", "/api/v2/developer/me", nil, 401)
	call("POST", "/api/v2/developer/logout", nil, 204)
	call("POST", "/api/v2/developer/refresh", nil, 401)
}
