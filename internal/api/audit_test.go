package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/tenancy"
)

// requestEntries returns the entries of one request, by its trace id.
func requestEntries(es []store.StoredEntry, trace string) []audit.Entry {
	var out []audit.Entry
	for _, e := range es {
		if e.Entry.TraceID == trace {
			out = append(out, e.Entry)
		}
	}
	return out
}

func TestRequestsAreAudited(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	org, admin := h.org("o")
	readOnly := h.token(org, store.RoleReadOnly, false, 0)
	system := h.token(org, store.RoleAuditLogAdmin, true, 0)
	expired := h.token(org, store.RoleOrgAdmin, false, time.Hour)
	h.clk.Advance(2 * time.Hour)
	adminTok, _ := h.ten.Authenticate(t.Context(), admin)
	expiredTok, _ := h.ten.Authenticate(t.Context(), expired)
	sys, err := h.ten.SystemOrg(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	type want struct {
		class, outcome string // authentication entry
		authz          string // "" when no check ran; else action
		granted        bool
		principal      string
		stream         string
	}
	for _, tc := range []struct {
		name, method, path, secret string
		status                     int
		want                       want
	}{
		{"success", http.MethodGet, "/v3/audit-log-destinations?filter%5Bname%5D%5Bcontains%5D=x", admin, 200,
			want{audit.AuthTypePAT, "AUTHENTICATION_OUTCOME_SUCCESS", "list", true, adminTok.ID, org}},
		{"system token", http.MethodGet, "/v3/audit-log-webhook/status", system, 200,
			want{audit.AuthTypeSPAT, "AUTHENTICATION_OUTCOME_SUCCESS", "retrieve", true, "", org}},
		{"denied", http.MethodPost, "/v3/portals", readOnly, 403,
			want{audit.AuthTypePAT, "AUTHENTICATION_OUTCOME_SUCCESS", "create", false, "", org}},
		{"expired", http.MethodGet, "/v3/portals", expired, 401,
			want{audit.AuthTypePAT, "AUTHENTICATION_OUTCOME_TOKEN_EXPIRED", "", false, expiredTok.ID, org}},
		{"unknown", http.MethodGet, "/v3/portals", tenancy.PATPrefix + "nope", 401,
			want{audit.AuthTypePAT, "AUTHENTICATION_OUTCOME_NOT_FOUND", "", false, "", sys.ID}},
		{"unknown system", http.MethodGet, "/v3/portals", tenancy.SPATPrefix + "nope", 401,
			want{audit.AuthTypeSPAT, "AUTHENTICATION_OUTCOME_NOT_FOUND", "", false, "", sys.ID}},
		{"missing", http.MethodGet, "/v3/portals", "", 401,
			want{audit.AuthTypePAT, "AUTHENTICATION_OUTCOME_INVALID", "", false, "", sys.ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := h.callWith(tc.method, tc.path, tc.secret, nil, map[string]string{"X-Forwarded-For": "203.0.113.9"})
			if res.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.Status, tc.status, res.Body)
			}
			if tc.status >= 400 {
				res.problem(t, tc.status)
			}
			if tc.status == 401 && res.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			trace := res.Header.Get("X-Sigtrail-Trace-Id")
			es := requestEntries(h.entries(tc.want.stream), trace)
			wantN := 2
			if tc.want.authz != "" {
				wantN = 3
			}
			if len(es) != wantN {
				t.Fatalf("%d entries for trace %s, want %d: %+v", len(es), trace, wantN, es)
			}
			path, query, _ := strings.Cut(tc.path, "?")
			for _, e := range es {
				if e.Src != "127.0.0.1" || e.UserAgent != "sigtrail-test/1" || e.OrgID != tc.want.stream || e.Product != audit.ProductKonnect {
					t.Errorf("common fields %+v", e)
				}
				if tc.want.principal != "" && e.PrincipalID != tc.want.principal {
					t.Errorf("principal %q, want %q", e.PrincipalID, tc.want.principal)
				}
			}
			auth, access := es[0], es[len(es)-1]
			if auth.Kind != audit.KindAuthentication || auth.ClassID != tc.want.class || auth.Name != tc.want.outcome || auth.Request != path {
				t.Errorf("authentication entry %+v", auth)
			}
			if tc.want.authz != "" {
				z := es[1]
				if z.Kind != audit.KindAuthorization || z.Action != tc.want.authz || z.Granted != tc.want.granted || !strings.HasPrefix(z.Name, "Authz.") {
					t.Errorf("authorization entry %+v", z)
				}
			}
			if access.Kind != audit.KindAccess || access.ClassID != audit.AccessClassGateway || access.Name != "Ingress" ||
				access.Request != path || access.Query != query || access.Act != tc.method || access.Status != tc.status {
				t.Errorf("access entry %+v", access)
			}
		})
	}
	// Nothing of this org leaked into the system stream and vice versa.
	for _, e := range h.entries(sys.ID) {
		if e.Entry.OrgID != sys.ID || e.Entry.PrincipalID != "" {
			t.Errorf("system stream holds %+v", e.Entry)
		}
	}
}

// TestTrustedProxy: the client address comes from X-Forwarded-For only
// when the peer is a trusted proxy.
func TestTrustedProxy(t *testing.T) {
	t.Parallel()
	proxies, err := httpxTrusted("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Config{TrustedProxies: proxies})
	org, tok := h.org("o")
	res := h.callWith(http.MethodGet, "/v3/portals", tok, nil, map[string]string{"X-Forwarded-For": "198.51.100.4, 203.0.113.9"}).expect(t, 200)
	for _, e := range requestEntries(h.entries(org), res.Header.Get("X-Sigtrail-Trace-Id")) {
		if e.Src != "203.0.113.9" {
			t.Errorf("src %q, want the address the trusted proxy saw", e.Src)
		}
	}
}

func TestRoles(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	org, _ := h.org("o")
	for _, tc := range []struct {
		role         store.Role
		method, path string
		body         any
		want         int
	}{
		{store.RoleReadOnly, http.MethodGet, "/v3/audit-log-destinations", nil, 200},
		{store.RoleReadOnly, http.MethodGet, "/v3/portals", nil, 200},
		{store.RoleReadOnly, http.MethodPost, "/v3/audit-log-destinations", newDest("x"), 403},
		{store.RoleReadOnly, http.MethodPatch, "/v3/audit-log-webhook", map[string]any{"enabled": false}, 403},
		{store.RoleAuditLogAdmin, http.MethodPost, "/v3/audit-log-destinations", newDest("x"), 201},
		{store.RoleAuditLogAdmin, http.MethodPost, "/v3/portals", map[string]any{"name": "a"}, 403},
		{store.RolePortalAdmin, http.MethodPost, "/v3/portals", map[string]any{"name": "b"}, 201},
		{store.RolePortalAdmin, http.MethodPost, "/v3/audit-log-destinations", newDest("y"), 403},
		{store.RolePortalAdmin, http.MethodGet, "/v3/audit-log-webhook", nil, 403},
		{store.RoleProducer, http.MethodGet, "/v3/portals", nil, 403},
		{store.RoleProducer, http.MethodGet, "/v3/audit-log-destinations", nil, 403},
	} {
		tok := h.token(org, tc.role, false, 0)
		res := h.call(tc.method, tc.path, tok, tc.body)
		if res.Status != tc.want {
			t.Errorf("%s %s %s: %d, want %d: %s", tc.role, tc.method, tc.path, res.Status, tc.want, res.Body)
		}
		if tc.want == 403 {
			res.problem(t, 403)
		}
	}
}
