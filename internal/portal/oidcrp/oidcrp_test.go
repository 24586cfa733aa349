package oidcrp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"
	"time"
)

func TestIdentityReadsTheMappedClaims(t *testing.T) {
	t.Parallel()
	p := Provider{ClaimName: "display", ClaimEmail: "mail", ClaimGroups: "roles"}
	for _, tc := range []struct {
		name   string
		claims map[string]any
		want   Identity
	}{
		{"all", map[string]any{"display": "Ada", "mail": "ada@example.com", "email": "Ada@Example.com", "email_verified": true, "roles": []any{"eng", 7, "ops"}},
			Identity{Subject: "s", Name: "Ada", Email: "ada@example.com", EmailVerified: true, Groups: []string{"eng", "ops"}}},
		{"one group as a string, verified as text", map[string]any{"mail": "a@b.example", "email": "a@b.example", "email_verified": "true", "roles": "eng"},
			Identity{Subject: "s", Email: "a@b.example", EmailVerified: true, Groups: []string{"eng"}}},
		// email_verified is the email claim's: a mapped claim that is not
		// that email is not verified by it.
		{"mapped claim other than the verified email", map[string]any{"mail": "victim@example.com", "email": "mallory@example.net", "email_verified": true},
			Identity{Subject: "s", Email: "victim@example.com"}},
		{"mapped claim without an email claim", map[string]any{"mail": "victim@example.com", "email_verified": true},
			Identity{Subject: "s", Email: "victim@example.com"}},
		{"unmapped names are not read", map[string]any{"name": "Ada", "email": "ada@example.com", "groups": []any{"eng"}, "email_verified": "yes"},
			Identity{Subject: "s"}},
		{"wrong types", map[string]any{"display": 1, "mail": []any{"x"}, "email_verified": 1, "roles": map[string]any{}},
			Identity{Subject: "s"}},
	} {
		if got := identity(p, "s", tc.claims); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// Without the development flag, a provider on a loopback address is never
// contacted, and the failure is ErrUnreachable, not a refused log-in.
func TestDiscoveryGoesThroughTheDialGuard(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	_, err := New(false, time.Now).AuthCodeURL(context.Background(), Provider{Issuer: srv.URL, ClientID: "c"}, "https://portal.example/cb", "s", "n", NewVerifier())
	if !errors.Is(err, ErrUnreachable) || hits.Load() != 0 {
		t.Fatalf("err %v, provider contacted %d times", err, hits.Load())
	}
	// The development flag lets it through (the provider here is no OIDC
	// provider, so discovery still fails, but after asking it).
	_, err = New(true, time.Now).AuthCodeURL(context.Background(), Provider{Issuer: srv.URL, ClientID: "c"}, "https://portal.example/cb", "s", "n", NewVerifier())
	if !errors.Is(err, ErrUnreachable) || hits.Load() != 1 {
		t.Fatalf("with the flag: err %v, provider contacted %d times", err, hits.Load())
	}
}
