package tenancy

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlite"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestSecrets(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for i := range 50 {
		system := i%2 == 1
		s, err := NewSecret(system)
		if err != nil {
			t.Fatal(err)
		}
		prefix := PATPrefix
		if system {
			prefix = SPATPrefix
		}
		body, ok := strings.CutPrefix(s, prefix)
		if !ok || len(body) != 43 || strings.Trim(body, base62) != "" || seen[s] {
			t.Fatalf("secret %q", s)
		}
		if IsSystemSecret(s) != system {
			t.Fatalf("IsSystemSecret(%q) = %v", s, !system)
		}
		seen[s] = true
	}
	if h := HashSecret("x"); len(h) != 32 || string(h) == string(HashSecret("y")) {
		t.Fatal("hash")
	}
}

func TestOrgs(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	s := New(st, clock.NewFake(epoch))
	ctx := context.Background()
	o, err := s.CreateOrg(ctx, "acme")
	if err != nil || o.Name != "acme" || !o.CreatedAt.Equal(epoch) {
		t.Fatalf("create %+v %v", o, err)
	}
	if _, err := s.CreateOrg(ctx, "acme"); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("duplicate: %v", err)
	}
	for _, bad := range []string{"", "_system", "-x", "a b", "ä", strings.Repeat("a", 64)} {
		if _, err := s.CreateOrg(ctx, bad); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("CreateOrg(%q) = %v, want invalid", bad, err)
		}
	}
	sys1, err := s.SystemOrg(ctx)
	if err != nil || sys1.Name != SystemOrgName {
		t.Fatal(sys1, err)
	}
	sys2, err := s.SystemOrg(ctx)
	if err != nil || sys2.ID != sys1.ID {
		t.Fatalf("system org made twice: %v %v", sys2, err)
	}
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	clk := clock.NewFake(epoch)
	s := New(st, clk)
	ctx := context.Background()
	o, err := s.CreateOrg(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	tok, secret, err := s.CreateToken(ctx, TokenSpec{OrgID: o.ID, Name: "ci", Role: store.RoleReadOnly, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !tok.ExpiresAt.Equal(epoch.Add(time.Hour)) || string(tok.Hash) != string(HashSecret(secret)) {
		t.Fatalf("token %+v", tok)
	}
	for _, bad := range []TokenSpec{
		{OrgID: o.ID, Name: "x", Role: "root"},
		{OrgID: o.ID, Name: " ", Role: store.RoleReadOnly},
		{OrgID: o.ID, Name: "x", Role: store.RoleReadOnly, TTL: -time.Second},
		// Past what the store can keep (2262), which wrapped into the past.
		{OrgID: o.ID, Name: "x", Role: store.RoleReadOnly, TTL: 100000 * 24 * time.Hour},
		{OrgID: o.ID, Name: "x", Role: store.RoleReadOnly, TTL: math.MaxInt64},
	} {
		if _, _, err := s.CreateToken(ctx, bad); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("CreateToken(%+v) = %v, want invalid", bad, err)
		}
	}
	if _, _, err := s.CreateToken(ctx, TokenSpec{OrgID: "0193d4a8-9b8e-7c4f-8a4e-1e2f3a4b5c6d", Name: "x", Role: store.RoleReadOnly}); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("token of a missing org: %v", err)
	}

	got, err := s.Authenticate(ctx, secret)
	if err != nil || got.ID != tok.ID || Outcome(err) != audit.OutcomeSuccess {
		t.Fatalf("authenticate: %+v %v", got, err)
	}
	// A long life that the store can keep is kept, and the token works.
	long, longSecret, err := s.CreateToken(ctx, TokenSpec{OrgID: o.ID, Name: "long", Role: store.RoleReadOnly, TTL: 200 * 365 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Authenticate(ctx, longSecret); err != nil || !got.ExpiresAt.Equal(long.ExpiresAt) {
		t.Errorf("a token for 200 years: %+v, %v; want it valid until %v", got, err, long.ExpiresAt)
	}
	for _, tc := range []struct {
		name, secret string
		advance      time.Duration
		cause        error
		outcome      audit.Outcome
	}{
		{"unknown", PATPrefix + "unknown", 0, ErrTokenNotFound, audit.OutcomeNotFound},
		{"empty", "", 0, ErrNoCredentials, audit.OutcomeInvalid},
		{"expired", secret, time.Hour, ErrTokenExpired, audit.OutcomeTokenExpired},
	} {
		clk.Advance(tc.advance)
		got, err := s.Authenticate(ctx, tc.secret)
		if !apperr.Is(err, apperr.Unauthorized) || !errors.Is(err, tc.cause) || Outcome(err) != tc.outcome {
			t.Errorf("%s: %v", tc.name, err)
		}
		// An expired token still names its org, so the attempt is logged there.
		if tc.name == "expired" && got.OrgID != o.ID {
			t.Errorf("expired token lost its org: %+v", got)
		}
		if tc.name != "expired" && got.ID != "" {
			t.Errorf("%s returned a token %+v", tc.name, got)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error text carries the secret")
		}
	}
}

func TestBootstrap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const secret = "bootstrap-secret-from-the-environment"
	clk := clock.NewFake(epoch)

	st := openStore(t)
	if err := Bootstrap(ctx, st, "", clk); err != nil {
		t.Fatal(err)
	}
	if orgs, _ := st.ListOrgs(ctx); len(orgs) != 0 {
		t.Fatal("empty secret did something")
	}
	for range 2 { // idempotent
		if err := Bootstrap(ctx, st, secret, clk); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := New(st, clk).Authenticate(ctx, secret)
	if err != nil || tok.Role != store.RoleOrgAdmin || tok.Name != BootstrapTokenName {
		t.Fatalf("bootstrap token %+v %v", tok, err)
	}
	org, err := st.GetOrg(ctx, tok.OrgID)
	if err != nil || org.Name != DefaultOrgName {
		t.Fatalf("bootstrap org %+v %v", org, err)
	}
	if toks, _ := st.ListTokens(ctx, org.ID); len(toks) != 1 {
		t.Fatalf("%d tokens after two bootstraps", len(toks))
	}

	// A changed secret on a later start adds no second admin token.
	if err := Bootstrap(ctx, st, "another-secret", clk); err != nil {
		t.Fatal(err)
	}
	if _, err := New(st, clk).Authenticate(ctx, "another-secret"); err == nil {
		t.Fatal("a later start with another secret added a token")
	}
	// A first start cut short after the org is finished.
	st3 := openStore(t)
	if _, err := New(st3, clk).createOrg(ctx, DefaultOrgName); err != nil {
		t.Fatal(err)
	}
	if err := Bootstrap(ctx, st3, secret, clk); err != nil {
		t.Fatal(err)
	}
	if _, err := New(st3, clk).Authenticate(ctx, secret); err != nil {
		t.Fatalf("bootstrap of a default org without tokens: %v", err)
	}

	// A database an operator set up is left alone.
	st2 := openStore(t)
	if _, err := New(st2, clk).CreateOrg(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if err := Bootstrap(ctx, st2, secret, clk); err != nil {
		t.Fatal(err)
	}
	if _, err := New(st2, clk).Authenticate(ctx, secret); err == nil {
		t.Fatal("bootstrap added a token to a configured database")
	}
}
