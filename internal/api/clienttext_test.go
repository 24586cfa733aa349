package api

import (
	"crypto/ed25519"
	"net/http"
	"strings"
	"testing"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/signing"
)

// TestClientTextIsCappedInEntries: a request's path, query and user agent
// reach its entries capped (audit.MaxRequestText ...), with the marker,
// whether or not it authenticated, and the lines stay signed and
// verifiable (the check `sigtrail verify` runs) in every format.
func TestClientTextIsCappedInEntries(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	org, admin := h.org("o")
	sys, err := h.ten.SystemOrg(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	longPath := "/v3/audit-log-destinations/" + strings.Repeat("a%3D%5C", 6000) // decoded: a=\ repeated
	longQuery := strings.Repeat("x=%0A&", 6000)
	longUA := strings.Repeat("Mozilla/5.0 =\\ ", 3000)
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	verifier := signing.NewVerifier([]signing.Key{{ID: "k", Public: priv.Public().(ed25519.PublicKey)}})
	for _, tc := range []struct {
		name, secret, stream string
		status               int
	}{
		{"no token", "", sys.ID, http.StatusUnauthorized},
		{"valid token", admin, org, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := h.callWith(http.MethodGet, longPath+"?"+longQuery, tc.secret, nil, map[string]string{"User-Agent": longUA})
			if res.Status != tc.status {
				t.Fatalf("status %d, want %d", res.Status, tc.status)
			}
			es := requestEntries(h.entries(tc.stream), res.Header.Get("X-Sigtrail-Trace-Id"))
			if len(es) < 2 {
				t.Fatalf("%d entries, want at least 2", len(es))
			}
			for _, e := range es {
				for _, f := range []struct {
					name, v string
					limit   int
					want    bool
				}{
					{"request", e.Request, audit.MaxRequestText, e.Kind != audit.KindAuthorization},
					{"query", e.Query, audit.MaxQueryText, e.Kind == audit.KindAccess},
					{"user_agent", e.UserAgent, audit.MaxUserAgentText, true},
				} {
					if !f.want {
						continue
					}
					if len(f.v) > f.limit || !strings.Contains(f.v, audit.TruncatedMarker) {
						t.Errorf("%v %s: %d bytes, cap %d, marker %v", e.Kind, f.name, len(f.v), f.limit, strings.Contains(f.v, audit.TruncatedMarker))
					}
				}
				for _, format := range []audit.Format{audit.FormatCEF, audit.FormatJSON, audit.FormatCPS} {
					line := audit.Renderer{}.AppendSigned(nil, format, &e, edSigner(priv))
					if len(line) > 8<<10 {
						t.Errorf("%v %v line: %d bytes", e.Kind, format, len(line))
					}
					if err := verifier.VerifyLine(line); err != nil {
						t.Errorf("%v %v line does not verify: %v", e.Kind, format, err)
					}
				}
			}
		})
	}
}
