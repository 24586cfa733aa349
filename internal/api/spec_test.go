package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestSpecValidationCatchesMismatches makes sure the response checks that
// every other test relies on can fail: a leaked authorization, a missing
// field and an undocumented status are all caught.
func TestSpecValidationCatchesMismatches(t *testing.T) {
	t.Parallel()
	specs := loadSpecs()
	if specs.err != nil {
		t.Fatal(specs.err)
	}
	json := http.Header{"Content-Type": {"application/json"}}
	const dest = `"id":"0193d4a8-9b8e-7c4f-8a4e-1e2f3a4b5c6d","name":"n","endpoint":"https://x.example","log_format":"cef","skip_ssl_verification":false,"ordering":"best_effort","created_at":"2026-03-01T12:00:00Z","updated_at":"2026-03-01T12:00:00Z"`
	for _, tc := range []struct {
		name, method, path string
		res                response
		wantErrs           int // at least
	}{
		{"good destination", http.MethodGet, "/v3/audit-log-destinations/0193d4a8-9b8e-7c4f-8a4e-1e2f3a4b5c6d",
			response{Status: 200, Header: json, Body: []byte("{" + dest + "}")}, 0},
		{"leaked authorization", http.MethodGet, "/v3/audit-log-destinations/0193d4a8-9b8e-7c4f-8a4e-1e2f3a4b5c6d",
			response{Status: 200, Header: json, Body: []byte("{" + dest + `,"authorization":"secret"}`)}, 1},
		{"bad log format", http.MethodGet, "/v2/audit-log-destinations/0193d4a8-9b8e-7c4f-8a4e-1e2f3a4b5c6d",
			response{Status: 200, Header: json, Body: []byte("{" + strings.Replace(dest, `"cef"`, `"xml"`, 1) + "}")}, 1},
		{"undocumented status", http.MethodGet, "/v3/portals",
			response{Status: 418, Header: json, Body: []byte(`{}`)}, 1},
		{"unknown route", http.MethodGet, "/v3/nothing-here",
			response{Status: 200, Header: json, Body: []byte(`{}`)}, 1},
	} {
		errs := specs.validate(tc.method, tc.path, "", &tc.res)
		if tc.wantErrs == 0 && len(errs) != 0 || tc.wantErrs > 0 && len(errs) < tc.wantErrs {
			t.Errorf("%s: %d errors, want %d: %v", tc.name, len(errs), tc.wantErrs, errs)
		}
		if tc.name == "bad log format" && kongSpecDir() != "" && len(errs) < 2 {
			t.Errorf("%s: Kong's spec did not catch it: %v", tc.name, errs)
		}
	}
}

// TestOpenAPICoversEveryRoute: the document and the route table name the
// same operations, both ways.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	t.Parallel()
	doc, err := openapi3.NewLoader().LoadFromData(openAPIDoc)
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	s := New(Config{}, Deps{}).(*server)
	served := map[string]bool{}
	for _, rt := range s.routes() {
		key := rt.method + " " + rt.path
		served[key] = true
		if !documented[key] {
			t.Errorf("%s is served but not in openapi.yaml", key)
		}
	}
	for key := range documented {
		if !served[key] {
			t.Errorf("%s is in openapi.yaml but not served", key)
		}
	}
}
