package audit

import (
	"errors"
	"testing"
)

func TestParseJSONRejects(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, line, field string }{
		{"duplicate key overriding a value", `{"name":"Ingress","status":200,"status":500}`, "status"},
		{"duplicate name", `{"name":"Authz.x","granted":true,"name":"Ingress"}`, "name"},
		{"key differing by case", `{"name":"Ingress","Status":200}`, "Status"},
		{"unknown key", `{"name":"Ingress","status":200,"extra":"x"}`, "extra"},
		{"wrong type", `{"name":"Ingress","status":"200"}`, "status"},
		{"kong_initiated on authentication", `{"name":"AUTHENTICATION_OUTCOME_SUCCESS","event_class_id":"AUTHENTICATION_TYPE_BASIC","kong_initiated":"true"}`, "kong_initiated"},
		{"portal_id on access", `{"name":"Ingress","status":200,"portal_id":"p"}`, "portal_id"},
		{"severity contradicting the rules", `{"name":"Ingress","status":500,"severity":1}`, "severity"},
		{"not an object", `["name"]`, ""},
		{"trailing data", `{"name":"Ingress","status":200} {}`, ""},
		{"unknown outcome", `{"name":"AUTHENTICATION_OUTCOME_MAYBE","event_class_id":"AUTHENTICATION_TYPE_BASIC"}`, "name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseJSON([]byte(tc.line))
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("got %v, want an error on %q", err, tc.field)
			}
		})
	}
}

func TestParseJSONAccepts(t *testing.T) {
	t.Parallel()
	e, err := ParseJSON([]byte(`{"name":"Authz.portals","granted":false,"action":"list","kong_initiated":"true","rt":1684196881193,"sig":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != KindAuthorization || e.Granted || !e.KongInitiated || e.ClassID != AuthzClassID || e.Severity() != 6 ||
		e.Time.UnixMilli() != 1684196881193 {
		t.Fatalf("%+v", e)
	}
}
