// Package storetest is the conformance suite of store.Store: every backend
// (sqlite, postgres) runs Run against real databases and must pass it
// unchanged. It checks behaviour the interfaces document, including every
// NotFound and Conflict, tenancy isolation, dense per-stream sequence
// numbers under concurrent appends, read-your-writes, pagination in both
// directions, retention and cascades, and the coordination of replicas
// sharing one database: leases with fencing epochs, fenced writes,
// periodic claims, rate limits and lockout counters.
//
// A backend's test says how to open a fresh store, and two handles on one
// fresh database (as two replicas would hold), each closed when the test
// ends:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Backend{
//			Open: func(t *testing.T) store.Store {
//				return openAt(t, filepath.Join(t.TempDir(), "db"))
//			},
//			OpenPair: func(t *testing.T) (a, b store.Store) {
//				path := filepath.Join(t.TempDir(), "db")
//				return openAt(t, path), openAt(t, path)
//			},
//		})
//	}
//
//	// openAt opens path and closes the store when t ends.
//	func openAt(t *testing.T, path string) store.Store {
//		s, err := Open(t.Context(), path, Options{})
//		if err != nil {
//			t.Fatal(err)
//		}
//		t.Cleanup(func() { s.Close() })
//		return s
//	}
//
// The tests that race two handles (lease take-over, fencing, dense sequence
// numbers, lockout counting, rate limits, key rotation, replay claims) go
// through OpenPair, so a backend proves what its replicas will rely on.
//
// Backends must keep times to at least millisecond precision; the suite's
// times are whole milliseconds in UTC, compared as instants.
package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// Backend opens stores of the backend under test.
type Backend struct {
	// Open returns a fresh, empty store and arranges for it to be closed
	// when t ends.
	Open func(t *testing.T) store.Store
	// OpenPair returns two handles on one fresh, empty database, each with
	// its own connections and caches as two replicas would have, and
	// arranges for both to be closed when t ends.
	OpenPair func(t *testing.T) (a, b store.Store)
}

// Run runs the suite. Every subtest opens its own stores, so subtests run
// in parallel.
func Run(t *testing.T, b Backend) {
	if b.Open == nil || b.OpenPair == nil {
		t.Fatal("storetest.Run: a Backend needs both Open and OpenPair")
	}
	groups := []struct {
		name string
		run  func(t *testing.T, b Backend)
	}{
		{"EventLog", testEventLog},
		{"Tenancy", testTenancy},
		{"Portals", testPortals},
		{"CustomDomains", testCustomDomains},
		{"Destinations", testDestinations},
		{"Webhooks", testWebhooks},
		{"ReplayJobs", testReplayJobs},
		{"Developers", testDevelopers},
		{"SigningKeys", testSigningKeys},
		{"Coordination", testCoordination},
		{"Prune", testPrune},
		{"Fencing", testFencing},
		{"RateLimits", testRateLimits},
		{"MailOutbox", testMailOutbox},
		{"Leaves", testLeaves},
		{"PortalContent", testPortalContent},
		{"PortalAssets", testPortalAssets},
		{"PortalAuth", testPortalAuth},
		{"Teams", testTeams},
		{"Users", testUsers},
		{"Identities", testIdentities},
		{"UserTokens", testUserTokens},
		{"TokenOwners", testTokenOwners},
		{"Overview", testOverview},
	}
	t.Run("Ping", func(t *testing.T) {
		t.Parallel()
		if err := b.Open(t).Ping(context.Background()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t, b)
		})
	}
}

// at is the suite's reference time ("base": whole milliseconds, UTC, not on
// an hour boundary) plus d.
func at(d time.Duration) time.Time {
	return time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC).Add(d)
}

func newID(t *testing.T) string {
	t.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		t.Fatal(err)
	}
	return id.String()
}

func ctxT(t *testing.T) context.Context { return t.Context() }

// must fails the test on an error.
func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantCode checks that err carries the application error code.
func wantCode(t *testing.T, err error, code apperr.Code, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want %s", what, code)
	}
	if got := apperr.CodeOf(err); got != code {
		t.Fatalf("%s: error %v has code %s, want %s", what, err, got, code)
	}
}

func mkOrg(t *testing.T, s store.Store) store.Org {
	t.Helper()
	o := store.Org{ID: newID(t), Name: "org-" + newID(t), CreatedAt: at(0)}
	must(t, s.CreateOrg(ctxT(t), o), "CreateOrg")
	return o
}

func mkPortal(t *testing.T, s store.Store, orgID string) store.Portal {
	t.Helper()
	id := newID(t)
	p := store.Portal{
		ID: id, OrgID: orgID, Name: "portal-" + id, DisplayName: "Portal " + id, Description: "a portal",
		AuthenticationEnabled: true, AutoApproveDevelopers: false, RBACEnabled: true,
		DefaultAPIVisibility: "public", DefaultPageVisibility: "private",
		DefaultDomain: id + ".portal.example.com", CreatedAt: at(time.Second), UpdatedAt: at(2 * time.Second),
	}
	must(t, s.CreatePortal(ctxT(t), p), "CreatePortal")
	return p
}

func mkDestination(t *testing.T, s store.Store, orgID, name string) store.Destination {
	t.Helper()
	d := store.Destination{
		ID: newID(t), OrgID: orgID, Name: name, Endpoint: "https://siem.example.com/" + name,
		Authorization: "Bearer secret-" + name, LogFormat: audit.FormatCEF, Ordering: store.OrderingBestEffort,
		CreatedAt: at(time.Minute), UpdatedAt: at(time.Minute),
	}
	must(t, s.CreateDestination(ctxT(t), d), "CreateDestination")
	return d
}

func mkDeveloper(t *testing.T, s store.Store, p store.Portal, email string) store.Developer {
	t.Helper()
	d := store.Developer{
		ID: newID(t), PortalID: p.ID, OrgID: p.OrgID, Email: email, FullName: "Dev " + email,
		Status: store.DeveloperApproved, PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA",
		CreatedAt: at(time.Hour), UpdatedAt: at(time.Hour),
	}
	must(t, s.CreateDeveloper(ctxT(t), d), "CreateDeveloper")
	return d
}

// entry builds an entry of kind k at time ts whose TraceID identifies it.
func entry(stream store.StreamID, k audit.Kind, ts time.Time, trace string) store.NewEntry {
	e := audit.Entry{
		Kind: k, Time: ts, Src: "198.51.100.4", OrgID: "org", PrincipalID: "principal",
		TraceID: trace, UserAgent: "suite/1.0",
	}
	switch k {
	case audit.KindAuthentication:
		e.Product, e.ClassID, e.Name, e.Request = audit.ProductDevPortal, audit.AuthTypeBasic, string(audit.OutcomeSuccess), "/login"
		e.PortalID = string(stream)
	case audit.KindAuthorization:
		e.Product, e.ClassID, e.Name, e.Action, e.Granted, e.ActorID = audit.ProductKonnect, audit.AuthzClassID, "Authz.portals", audit.ActionList, true, "actor"
	case audit.KindAccess:
		e.Product, e.ClassID, e.Name, e.Act, e.Status, e.Request, e.Query = audit.ProductKonnect, audit.AccessClassIngress, audit.AccessName, "GET", 200, "/v2/x", "a=1"
	}
	return store.NewEntry{Stream: stream, Entry: e}
}

// seqsOf lists the sequence numbers of entries.
func seqsOf(es []store.StoredEntry) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.Seq
	}
	return out
}

func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, v := range items {
		out[i] = id(v)
	}
	return out
}

func eqStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func fmtRange(r store.SeqRange) string { return fmt.Sprintf("%d-%d", r.From, r.To) }

// same reports whether two values of a store record type hold the same
// data: fields compare with ==, except times, which compare as instants,
// so a backend may return them in any location.
func same[T any](a, b T) bool {
	return sameValue(reflect.ValueOf(a), reflect.ValueOf(b))
}

func sameValue(a, b reflect.Value) bool {
	if ta, ok := a.Interface().(time.Time); ok {
		return ta.Equal(b.Interface().(time.Time))
	}
	switch a.Kind() {
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameValue(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map: // nil and empty are the same: no labels
		if a.Len() != b.Len() {
			return false
		}
		for _, k := range a.MapKeys() {
			if v := b.MapIndex(k); !v.IsValid() || !sameValue(a.MapIndex(k), v) {
				return false
			}
		}
		return true
	}
	return a.Interface() == b.Interface()
}
