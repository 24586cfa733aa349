package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlite"
	"github.com/sigtrail/sigtrail/internal/tenancy"
)

var ndjson = map[string]string{"Content-Type": "application/x-ndjson"}

// ingestLine is a valid authentication line with the given trace id.
func ingestLine(traceID string) string {
	return `{"event_class_id":"AUTHENTICATION_TYPE_BASIC","name":"AUTHENTICATION_OUTCOME_SUCCESS","request":"/login","success":true,"src":"203.0.113.7","principal_id":"u-1","trace_id":"` + traceID + `","user_agent":"gw/1"}`
}

// byTrace finds a stream's entries by trace id.
func byTrace(t *testing.T, st store.EventLog, stream string) map[string]store.StoredEntry {
	t.Helper()
	es, err := st.Query(context.Background(), store.EntryQuery{Stream: store.StreamID(stream)})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.StoredEntry{}
	for _, e := range es {
		out[e.Entry.TraceID] = e
	}
	return out
}

func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "ingest", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestIngestAcceptsAndCompletesEntries(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	org, admin := h.org("o")
	producer := h.token(org, store.RoleProducer, false, 0)
	var p struct {
		ID string `json:"id"`
	}
	h.call(http.MethodPost, "/v3/portals", admin, map[string]any{"name": "dev"}).expect(t, http.StatusCreated).decode(t, &p)

	body := strings.NewReplacer("PORTAL_ID", p.ID, "ORG_ID", org).Replace(readFixture(t, "mixed.ndjson"))
	var out struct {
		Accepted int `json:"accepted"`
	}
	h.callWith(http.MethodPost, "/v1/entries", producer, body, ndjson).expect(t, http.StatusAccepted).decode(t, &out)
	if out.Accepted != 4 {
		t.Fatalf("accepted %d, want 4", out.Accepted)
	}
	orgLog, portalLog := byTrace(t, h.st, org), byTrace(t, h.st, p.ID)
	for _, tc := range []struct {
		trace   string
		log     map[string]store.StoredEntry
		kind    audit.Kind
		product string
		time    time.Time
	}{
		{"in-auth", orgLog, audit.KindAuthentication, audit.ProductKonnect, epoch},
		{"in-authz", orgLog, audit.KindAuthorization, audit.ProductKonnect, time.UnixMilli(1772362800123).UTC()},
		{"in-access", orgLog, audit.KindAccess, audit.ProductKonnect, time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)},
		{"in-portal", portalLog, audit.KindAuthentication, audit.ProductDevPortal, epoch},
	} {
		e, ok := tc.log[tc.trace]
		if !ok {
			t.Fatalf("%s not in its stream", tc.trace)
		}
		if e.Entry.Kind != tc.kind || e.Entry.OrgID != org || e.Entry.Product != tc.product || !e.Entry.Time.Equal(tc.time) {
			t.Errorf("%s stored as kind %v org %q product %q time %v; want %v %q %q %v", tc.trace,
				e.Entry.Kind, e.Entry.OrgID, e.Entry.Product, e.Entry.Time, tc.kind, org, tc.product, tc.time)
		}
	}
	if portalLog["in-portal"].Entry.PortalID != p.ID {
		t.Errorf("portal entry lost its portal_id")
	}
	// A successful request is recorded by its entries alone
	// (ingest_audit_test.go).
	for _, e := range h.entries(org) {
		if e.Entry.Kind == audit.KindAuthorization && e.Entry.Name == "Authz.entries" {
			t.Error("a successful ingest request added an authorization entry")
		}
	}
}

// Any bad line fails the whole request, naming each bad line; nothing of
// it is stored.
func TestIngestIsAllOrNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	org, admin := h.org("o")
	_, otherAdmin := h.org("other")
	var other struct {
		ID string `json:"id"`
	}
	h.call(http.MethodPost, "/v3/portals", otherAdmin, map[string]any{"name": "theirs"}).expect(t, http.StatusCreated).decode(t, &other)
	old := epoch.Add(-8 * 24 * time.Hour).UnixMilli()
	future := epoch.Add(2 * time.Hour).UnixMilli()
	good := ingestLine("ok")
	tests := []struct {
		name  string
		line  string
		field string
	}{
		{"access without status", `{"name":"Ingress","act":"GET","request":"/x","src":"s","principal_id":"p","trace_id":"t","user_agent":"u"}`, "line 3: status"},
		{"malformed JSON", `{"name":`, "line 3"},
		{"not an object", `[1,2]`, "line 3"},
		{"unknown field", strings.Replace(good, `"src"`, `"source"`, 1), "line 3: source"},
		{"wrong type", strings.Replace(good, `"success":true`, `"success":"yes"`, 1), "line 3: success"},
		{"unknown name", strings.Replace(good, "AUTHENTICATION_OUTCOME_SUCCESS", "LOGIN", 1), "line 3: name"},
		{"success contradicts name", strings.Replace(good, `"success":true`, `"success":false`, 1), "line 3: success"},
		{"unknown authentication type", strings.Replace(good, "AUTHENTICATION_TYPE_BASIC", "AUTHENTICATION_TYPE_MAGIC", 1), "line 3: event_class_id"},
		{"another org", strings.Replace(good, `{`, `{"org_id":"0193d4a8-9b8e-7c4f-8a4e-1e2f3a4b5c6d",`, 1), "line 3: org_id"},
		{"another org's portal", strings.Replace(good, `{`, `{"portal_id":"`+other.ID+`",`, 1), "line 3: portal_id"},
		{"no such portal", strings.Replace(good, `{`, `{"portal_id":"not-a-uuid",`, 1), "line 3: portal_id"},
		{"wrong product", strings.Replace(good, `{`, `{"event_product":"Dev-Portal",`, 1), "line 3: event_product"},
		{"signed already", strings.Replace(good, `}`, `,"sig":5}`, 1), "line 3: sig"},
		{"older than retention", strings.Replace(good, `{`, fmt.Sprintf(`{"rt":%d,`, old), 1), "line 3: rt"},
		{"far future", strings.Replace(good, `{`, fmt.Sprintf(`{"rt":%d,`, future), 1), "line 3: rt"},
		{"bad event_ts", strings.Replace(good, `{`, `{"event_ts":"2026-03-01T11:00:00+01:00x",`, 1), "line 3: event_ts"},
		{"wrong severity", strings.Replace(good, `{`, `{"severity":7,`, 1), "line 3: severity"},
		{"invalid UTF-8", strings.Replace(good, `"src":"`, "\"src\":\"\xff", 1), "line 3"},
		{"lone surrogate escape", strings.Replace(good, `"src":"`, `"src":"\ud800`, 1), "line 3"},
		{"duplicate key", strings.Replace(good, `{`, `{"success":true,`, 1), "line 3: success"},
		{"stray brace after the object", good + `}`, "line 3"},
	}
	for _, tc := range tests {
		body := ingestLine("first-"+tc.name) + "\n" + ingestLine("second-"+tc.name) + "\n" + tc.line + "\n" + ingestLine("fourth-"+tc.name) + "\n"
		p := h.callWith(http.MethodPost, "/v1/entries", admin, body, ndjson).problem(t, http.StatusBadRequest)
		params, _ := p["invalid_parameters"].([]any)
		if len(params) != 1 || params[0].(map[string]any)["field"] != tc.field {
			t.Errorf("%s: invalid_parameters %v, want one naming %q", tc.name, params, tc.field)
		}
	}
	for trace := range byTrace(t, h.st, org) {
		if strings.HasPrefix(trace, "first-") || strings.HasPrefix(trace, "second-") || strings.HasPrefix(trace, "fourth-") {
			t.Fatalf("%s was stored from a refused request", trace)
		}
	}

	// Several bad lines are all named, in order; blank lines count.
	body := ingestLine("a") + "\n\n" + `{"name":"Ingress"}` + "\n" + ingestLine("b") + "\n" + `{}` + "\n"
	p := h.callWith(http.MethodPost, "/v1/entries", admin, body, ndjson).problem(t, http.StatusBadRequest)
	var fields []string
	for _, ip := range p["invalid_parameters"].([]any) {
		fields = append(fields, ip.(map[string]any)["field"].(string))
	}
	if strings.Join(fields, ",") != "line 3: status,line 5: name" {
		t.Errorf("fields %v, want line 3: status and line 5: name", fields)
	}
}

func TestIngestRequestChecks(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	org, admin := h.org("o")
	long := `{"name":"AUTHENTICATION_OUTCOME_SUCCESS","event_class_id":"AUTHENTICATION_TYPE_BASIC","user_agent":"` + strings.Repeat("x", ingestMaxLine) + `"}`
	tests := []struct {
		name   string
		role   store.Role
		body   string
		header map[string]string
		status int
	}{
		{"json content type", store.RoleOrgAdmin, ingestLine("x"), map[string]string{"Content-Type": "application/json"}, 415},
		{"no content type", store.RoleOrgAdmin, ingestLine("x"), map[string]string{"Content-Type": ""}, 415},
		{"gzip", store.RoleOrgAdmin, ingestLine("x"), map[string]string{"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"}, 415},
		{"empty body", store.RoleOrgAdmin, "", ndjson, 400},
		{"blank lines only", store.RoleOrgAdmin, "\n \n\n", ndjson, 400},
		{"line too long", store.RoleOrgAdmin, ingestLine("a") + "\n" + long + "\n", ndjson, 400},
		{"too large", store.RoleOrgAdmin, strings.Repeat(ingestLine("big")+"\n", ingestMaxBody/len(ingestLine("big"))+10), ndjson, 413},
		{"read-only role", store.RoleReadOnly, ingestLine("x"), ndjson, 403},
		{"audit-log admin role", store.RoleAuditLogAdmin, ingestLine("x"), ndjson, 403},
		{"producer with charset", store.RoleProducer, ingestLine("x"), map[string]string{"Content-Type": "application/x-ndjson; charset=utf-8"}, 202},
		{"no trailing newline", store.RoleProducer, ingestLine("y") + "\n" + ingestLine("z"), ndjson, 202},
	}
	for _, tc := range tests {
		tok := admin
		if tc.role != store.RoleOrgAdmin {
			tok = h.token(org, tc.role, false, 0)
		}
		res := h.callWith(http.MethodPost, "/v1/entries", tok, tc.body, tc.header)
		if res.Status != tc.status {
			t.Errorf("%s: status %d, want %d: %.300s", tc.name, res.Status, tc.status, res.Body)
		}
		if tc.name == "line too long" && !bytes.Contains(res.Body, []byte(`"line 2"`)) {
			t.Errorf("line too long: %.300s does not name line 2", res.Body)
		}
	}
	if n := len(byTrace(t, h.st, org)); n == 0 {
		t.Fatal("nothing stored")
	}
	stored := byTrace(t, h.st, org)
	for _, trace := range []string{"a", "big"} {
		if _, ok := stored[trace]; ok {
			t.Errorf("%s from a refused request was stored", trace)
		}
	}
	if _, ok := stored["z"]; !ok {
		t.Error("the last line without a newline was lost")
	}
}

// ingestFixture is a parser with a real store, for the fuzz test and the
// benchmarks.
func ingestFixture(tb testing.TB) (*server, *call) {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	const org = "0193d4a8-9b8e-7c4f-8a4e-1e2f3a4b5c6d"
	if err := st.CreateOrg(context.Background(), store.Org{ID: org, Name: "o", CreatedAt: epoch}); err != nil {
		tb.Fatal(err)
	}
	s := New(Config{}, Deps{Store: st, Clock: clock.NewFake(epoch)}).(*server)
	return s, &call{s: s, r: httptest.NewRequest(http.MethodPost, "/v1/entries", nil), org: org}
}

func FuzzIngestParse(f *testing.F) {
	for _, name := range []string{"mixed.ndjson"} {
		b, err := os.ReadFile(filepath.Join("testdata", "ingest", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(ingestLine("x") + "\n" + `{"name":"Ingress","status":200}`))
	f.Add([]byte("\n\n{}\n"))
	f.Add([]byte(`{"name":"Authz.x","granted":true,"portal_id":"0193d4a8-9b8e-7c4f-8a4e-1e2f3a4b5c6d"}`))
	s, c := ingestFixture(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		p := ingestParser{s: s, c: c, now: epoch, portals: map[string]bool{}}
		entries, err := p.parse(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			if entries != nil {
				t.Fatal("entries returned with an error")
			}
			return
		}
		// Whatever is accepted is complete and in the caller's org stream.
		for _, e := range entries {
			if e.Stream != store.StreamID(c.org) || e.Entry.OrgID != c.org || e.Entry.Product != audit.ProductKonnect {
				t.Fatalf("accepted entry in the wrong place: %+v", e)
			}
			if e.Entry.Time.IsZero() || e.Entry.Time.Before(epoch.Add(-DefaultRetention)) || e.Entry.Time.After(epoch.Add(ingestMaxFuture)) {
				t.Fatalf("accepted entry with time %v", e.Entry.Time)
			}
			if _, ok := audit.KindOfName(e.Entry.Name); !ok {
				t.Fatalf("accepted entry with name %q", e.Entry.Name)
			}
		}
	})
}

// benchBody is n valid lines of all three kinds, about 300 bytes each.
func benchBody(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		switch i % 3 {
		case 0:
			b.WriteString(ingestLine(fmt.Sprintf("trace-%d", i)))
		case 1:
			fmt.Fprintf(&b, `{"name":"Authz.control-planes","action":"list","granted":true,"src":"10.0.0.1","principal_id":"p-%d","actor_id":"","trace_id":"trace-%d","user_agent":"gw/1"}`, i, i)
		default:
			fmt.Fprintf(&b, `{"event_class_id":"KongGateway","name":"Ingress","act":"GET","request":"/v2/control-planes","query":"page=1","status":200,"src":"10.0.0.1","principal_id":"p-%d","trace_id":"trace-%d","user_agent":"gw/1"}`, i, i)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// BenchmarkIngestParse measures parsing and checking alone (entries/s is
// the figure to compare with the 50,000/s the load tool pushes).
func BenchmarkIngestParse(b *testing.B) {
	s, c := ingestFixture(b)
	body := benchBody(1000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		p := ingestParser{s: s, c: c, now: epoch, portals: map[string]bool{}}
		if _, err := p.parse(bytes.NewReader(body), int64(len(body))); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkIngestHTTP measures whole requests of 1,000 entries: HTTP on
// 127.0.0.1, token check, the request's own audit entries, parsing, and the
// durable (fsync'd) append to SQLite.
func BenchmarkIngestHTTP(b *testing.B) {
	srv, secret := benchIngestServer(b, nil)
	body := benchBody(1000)
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/entries", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/x-ndjson")
			req.Header.Set("Authorization", "Bearer "+secret)
			res, err := srv.Client().Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusAccepted {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "entries/s")
}

// prefixRecorder sends the calls whose first entry's trace id has prefix
// through hook, and every other call (the requests' own audit entries)
// straight to next.
type prefixRecorder struct {
	next   store.Recorder
	prefix string
	hook   func(ctx context.Context, next store.Recorder, entries []store.NewEntry) ([]int64, error)
}

func (p prefixRecorder) Record(ctx context.Context, entries []store.NewEntry) ([]int64, error) {
	if len(entries) > 0 && strings.HasPrefix(entries[0].Entry.TraceID, p.prefix) {
		return p.hook(ctx, p.next, entries)
	}
	return p.next.Record(ctx, entries)
}

// ingestServer is the API on 127.0.0.1 over a real store, recording
// through rec; it returns the org, a producer secret and the server.
func ingestServer(t *testing.T, st *sqlite.Store, rec func(store.Recorder) store.Recorder, wrap func(http.Handler) http.Handler) (string, string, *httptest.Server) {
	t.Helper()
	clk := clock.NewFake(epoch)
	orgID, secret := newProducer(t, st, clk, "o", "p")
	var h http.Handler = New(Config{}, Deps{Store: st, Recorder: rec(store.LogRecorder{Log: st}), Clock: clk})
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return orgID, secret, srv
}

// newProducer creates an org named org and a producer token named token in
// it, and returns the org's id and the token's secret.
func newProducer(tb testing.TB, st store.Store, clk clock.Clock, org, token string) (string, string) {
	tb.Helper()
	ten := tenancy.New(st, clk)
	o, err := ten.CreateOrg(context.Background(), org)
	if err != nil {
		tb.Fatal(err)
	}
	_, secret, err := ten.CreateToken(context.Background(), tenancy.TokenSpec{OrgID: o.ID, Name: token, Role: store.RoleProducer})
	if err != nil {
		tb.Fatal(err)
	}
	return o.ID, secret
}

func openTestStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// A producer that hangs up while its entries are being committed does not
// cancel the append: the entries are stored, as a commit already under way
// would be, rather than lost to a race with the connection.
func TestIngestStoresEntriesWhenTheProducerHangsUp(t *testing.T) {
	t.Parallel()
	st := openTestStore(t)
	entered, release := make(chan struct{}), make(chan struct{})
	reqCtx, handled := make(chan context.Context, 1), make(chan struct{})
	org, secret, srv := ingestServer(t, st,
		func(next store.Recorder) store.Recorder {
			return prefixRecorder{next: next, prefix: "hangup-",
				hook: func(ctx context.Context, next store.Recorder, es []store.NewEntry) ([]int64, error) {
					close(entered)
					<-release // the producer hangs up meanwhile
					return next.Record(ctx, es)
				}}
		},
		func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reqCtx <- r.Context()
				h.ServeHTTP(w, r)
				close(handled)
			})
		})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/entries",
		strings.NewReader(ingestLine("hangup-1")+"\n"+ingestLine("hangup-2")+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+secret)
	errc := make(chan error, 1)
	go func() {
		res, err := srv.Client().Do(req)
		if err == nil {
			res.Body.Close()
		}
		errc <- err
	}()
	serverCtx := <-reqCtx
	<-entered
	cancel()
	<-serverCtx.Done() // the server saw the hang-up before the append ran
	if err := <-errc; err == nil {
		t.Fatal("the request was answered though the producer hung up")
	}
	close(release)
	<-handled
	got := byTrace(t, st, org)
	for _, trace := range []string{"hangup-1", "hangup-2"} {
		if _, ok := got[trace]; !ok {
			t.Errorf("%s was not stored", trace)
		}
	}
}

// A failed append says what is known: when the store stopped being waited
// for, the entries may have been stored; when it refused them, they were not.
func TestIngestRecordFailureWording(t *testing.T) {
	t.Parallel()
	closed := openTestStore(t)
	closed.Close()
	tests := []struct {
		name string
		hook func(ctx context.Context, next store.Recorder, es []store.NewEntry) ([]int64, error)
		want string
	}{
		{"the timeout passes", func(ctx context.Context, next store.Recorder, es []store.NewEntry) ([]int64, error) {
			ctx, cancel := context.WithDeadline(ctx, epoch) // long past: the bounded wait is over
			defer cancel()
			return next.Record(ctx, es)
		}, "they may have been stored"},
		{"the connection is lost while committing", func(ctx context.Context, _ store.Recorder, es []store.NewEntry) ([]int64, error) {
			return nil, store.ErrMaybeStored
		}, "they may have been stored"},
		{"the store refuses", func(ctx context.Context, _ store.Recorder, es []store.NewEntry) ([]int64, error) {
			return store.LogRecorder{Log: closed}.Record(ctx, es)
		}, "nothing was accepted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := openTestStore(t)
			_, secret, srv := ingestServer(t, st, func(next store.Recorder) store.Recorder {
				return prefixRecorder{next: next, prefix: "fail-", hook: tc.hook}
			}, nil)
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/entries", strings.NewReader(ingestLine("fail-1")+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-ndjson")
			req.Header.Set("Authorization", "Bearer "+secret)
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var p struct {
				Detail string `json:"detail"`
			}
			if err := json.NewDecoder(res.Body).Decode(&p); err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(p.Detail, tc.want) {
				t.Fatalf("%d %q, want 503 saying %q", res.StatusCode, p.Detail, tc.want)
			}
		})
	}
}

// benchIngestServer is the API on a SQLite store in b's temporary
// directory, served on 127.0.0.1, with a producer token's secret; rec, when
// set, takes the appends instead of the store. Both close when b ends.
func benchIngestServer(b *testing.B, rec store.Recorder) (*httptest.Server, string) {
	b.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	clk := clock.NewFake(epoch)
	_, secret := newProducer(b, st, clk, "bench", "bench")
	srv := httptest.NewServer(New(Config{}, Deps{Store: st, Recorder: rec, Clock: clk}))
	b.Cleanup(srv.Close)
	return srv, secret
}
