package api

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/delivery"
	"github.com/sigtrail/sigtrail/internal/replay"
	"github.com/sigtrail/sigtrail/internal/signing"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlite"
	"github.com/sigtrail/sigtrail/internal/tenancy"
)

// fullHarness is the API wired as the server wires it for replay, pull and
// ingest: real signing keys, the delivery manager as the replay sender, a
// running replay runner, and a SIEM sink on 127.0.0.1.
type fullHarness struct {
	*harness
	keys *signing.Keyring
	dm   *delivery.Manager
	sink *siemSink
}

// newFullHarness starts it; live also runs the delivery dispatchers (and
// makes the manager the API's recorder), as in production.
func newFullHarness(t *testing.T, cfg Config, live bool) *fullHarness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	specs := loadSpecs()
	if specs.err != nil {
		t.Fatalf("load specs: %v", specs.err)
	}
	clk := clock.NewFake(epoch)
	keys, err := signing.Open(ctx, st, clk, DefaultRetention)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	dm, err := delivery.New(delivery.Config{InsecureDestinations: true, Retry: delivery.RetryPolicy{Rand: func() float64 { return 0 }}},
		delivery.Deps{Store: st, Signer: keys, Renderer: audit.Renderer{}, Clock: clk, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	runner := replay.New(replay.Config{BatchSize: 50, Retention: cfg.Retention}, replay.Deps{Store: st, Sender: dm, Clock: clk, Logger: log})
	f := &fullHarness{keys: keys, dm: dm, sink: newSiemSink(t, keys)}
	h := &harness{t: t, st: st, clk: clk, hooks: &notifier{}, specs: specs, ten: tenancy.New(st, clk)}
	deps := Deps{Store: st, Recorder: store.LogRecorder{Log: st}, JWKS: keys, Webhooks: h.hooks, Clock: clk, Logger: log,
		Signer: keys, Renderer: audit.Renderer{}, Replays: runner}
	if live {
		deps.Recorder, deps.Webhooks = dm, dm
	}
	cfg.InsecureDestinations = true
	h.api = New(cfg, deps).(*server)
	h.srv = httptest.NewServer(h.api)
	t.Cleanup(h.srv.Close)
	f.harness = h

	var wg sync.WaitGroup
	run := func(name string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}()
	}
	run("replay runner", runner.Run)
	if live {
		run("delivery", dm.Run)
	}
	t.Cleanup(func() { cancel(); wg.Wait() }) // before the store closes
	return f
}

// webhookTo creates a JSON destination at the sink and points the org's
// (or a portal's, when portalID is set) enabled webhook at it.
func (f *fullHarness) webhookTo(tok, portalID string) {
	f.t.Helper()
	var d destOut
	f.call(http.MethodPost, "/v3/audit-log-destinations", tok, map[string]any{
		"name": "sink-" + portalID, "endpoint": f.sink.srv.URL, "authorization": "Bearer sink", "log_format": "json",
	}).expect(f.t, http.StatusCreated).decode(f.t, &d)
	path := "/v3/audit-log-webhook"
	if portalID != "" {
		path = "/v3/portals/" + portalID + "/audit-log-webhook"
	}
	f.call(http.MethodPatch, path, tok, map[string]any{"audit_log_destination_id": d.ID, "enabled": true}).expect(f.t, http.StatusOK)
}

// waitReplay polls GET on a replay job path until cond holds.
func (f *fullHarness) waitReplay(path, tok, what string, cond func(replayJobJSON) bool) replayJobJSON {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var j replayJobJSON
		f.call(http.MethodGet, path, tok, nil).expect(f.t, http.StatusOK).decode(f.t, &j)
		if cond(j) {
			return j
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("timed out waiting for %s: %+v", what, j)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// advanceRetries moves the fake clock past every timer as soon as one is
// pending (the retry waits of failing deliveries) until the test ends.
func (f *fullHarness) advanceRetries() {
	f.t.Cleanup(f.clk.AutoAdvance())
}

func finished(j replayJobJSON) bool { return j.Status == "completed" || j.Status == "failed" }

// siemSink receives webhook requests on 127.0.0.1, checks every line's
// signature against the published keys, and counts lines by trace id and
// name. It answers failStatus while set, and holds requests while hold is
// set (reporting each on held) until the hold is lifted or the test ends.
type siemSink struct {
	srv        *httptest.Server
	keys       *signing.Keyring
	failStatus atomic.Int32
	hold       atomic.Bool
	held       chan struct{}
	release    chan struct{}

	releaseOnce sync.Once

	mu       sync.Mutex
	got      map[string]int // trace_id + " " + name -> times received
	badSigs  int
	requests int
}

func newSiemSink(t *testing.T, keys *signing.Keyring) *siemSink {
	t.Helper()
	s := &siemSink{keys: keys, got: map[string]int{}, held: make(chan struct{}, 64), release: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() { s.unhold(); s.srv.Close() })
	return s
}

// unhold lets held requests through and stops holding new ones.
func (s *siemSink) unhold() {
	s.hold.Store(false)
	s.releaseOnce.Do(func() { close(s.release) })
}

func (s *siemSink) serve(w http.ResponseWriter, r *http.Request) {
	if s.hold.Load() {
		s.held <- struct{}{}
		select {
		case <-s.release:
		case <-r.Context().Done():
			return
		}
	}
	if st := s.failStatus.Load(); st != 0 {
		http.Error(w, "down for maintenance", int(st))
		return
	}
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		http.Error(w, "not gzip", http.StatusBadRequest)
		return
	}
	v, err := signing.ParseJWKS(s.keys.JWKS())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var keys []string
	bad := 0
	for sc.Scan() {
		var line struct {
			TraceID string `json:"trace_id"`
			Name    string `json:"name"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			http.Error(w, "bad line", http.StatusBadRequest)
			return
		}
		if v.VerifyLine(sc.Bytes()) != nil {
			bad++
		}
		keys = append(keys, line.TraceID+" "+line.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	s.badSigs += bad
	for _, k := range keys {
		s.got[k]++
	}
}

func (s *siemSink) received(traceID, name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got[traceID+" "+name]
}

func (s *siemSink) stats() (lines, badSigs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.got {
		lines += n
	}
	return lines, s.badSigs
}

// appendEntries appends n authentication entries to a stream at the given
// times (cycling), with trace ids prefix-0, prefix-1, ...
func appendEntries(t *testing.T, st store.EventLog, stream store.StreamID, org, portalID, prefix string, at []time.Time, n int) []string {
	t.Helper()
	ids := make([]string, n)
	es := make([]store.NewEntry, n)
	product := audit.ProductKonnect
	if portalID != "" {
		product = audit.ProductDevPortal
	}
	for i := range es {
		ids[i] = prefix + "-" + itoa(i)
		es[i] = store.NewEntry{Stream: stream, Entry: audit.Entry{Kind: audit.KindAuthentication, Time: at[i%len(at)],
			Product: product, ClassID: audit.AuthTypeBasic, Name: string(audit.OutcomeSuccess), Src: "203.0.113.9",
			OrgID: org, PortalID: portalID, PrincipalID: "dev-1", TraceID: ids[i], UserAgent: "ua", Request: "/login"}}
	}
	if _, err := st.Append(context.Background(), es); err != nil {
		t.Fatal(err)
	}
	return ids
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[n:])
		}
	}
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func TestReplayJobValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	_, tok := h.org("o")
	now := epoch
	tests := []struct {
		name   string
		body   any
		fields []string // invalid_parameters fields, in order
	}{
		{"missing both", map[string]any{}, []string{"start_at", "end_at"}},
		{"missing end", map[string]any{"start_at": rfc(now.Add(-time.Hour))}, []string{"end_at"}},
		{"not RFC 3339", map[string]any{"start_at": "yesterday", "end_at": rfc(now)}, []string{"start_at"}},
		{"date only", map[string]any{"start_at": "2026-03-01", "end_at": rfc(now)}, []string{"start_at"}},
		{"start after end", map[string]any{"start_at": rfc(now.Add(-time.Hour)), "end_at": rfc(now.Add(-2 * time.Hour))}, []string{"end_at"}},
		{"start equals end", map[string]any{"start_at": rfc(now.Add(-time.Hour)), "end_at": rfc(now.Add(-time.Hour))}, []string{"end_at"}},
		{"start before retention", map[string]any{"start_at": rfc(now.Add(-8 * 24 * time.Hour)), "end_at": rfc(now)}, []string{"start_at"}},
		{"both before retention", map[string]any{"start_at": rfc(now.Add(-9 * 24 * time.Hour)), "end_at": rfc(now.Add(-8 * 24 * time.Hour))}, []string{"start_at", "end_at"}},
		{"end in the future", map[string]any{"start_at": rfc(now.Add(-time.Hour)), "end_at": rfc(now.Add(time.Hour))}, []string{"end_at"}},
		{"wrong type", map[string]any{"start_at": 12, "end_at": rfc(now)}, []string{"start_at"}},
		{"unknown field", map[string]any{"start_at": rfc(now.Add(-time.Hour)), "end_at": rfc(now), "region": "us"}, []string{"region"}},
	}
	for _, tc := range tests {
		for _, path := range []string{"/v2/audit-log-replay-job", "/v3/audit-log-replay-job"} {
			p := h.call(http.MethodPut, path, tok, tc.body).problem(t, http.StatusBadRequest)
			params, _ := p["invalid_parameters"].([]any)
			var got []string
			for _, ip := range params {
				got = append(got, ip.(map[string]any)["field"].(string))
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("%s %s: invalid_parameters %v, want fields %v", tc.name, path, params, tc.fields)
			}
		}
	}
	// Within the grace minute of the window's edges is accepted.
	h.call(http.MethodPut, "/v3/audit-log-replay-job", tok, map[string]any{
		"start_at": rfc(now.Add(-DefaultRetention).Add(-30 * time.Second)), "end_at": rfc(now.Add(30 * time.Second)),
	}).expect(t, http.StatusAccepted)
	if _, err := h.st.GetReplayJob(t.Context(), streamOfOrg(t, h, tok)); err != nil {
		t.Fatalf("accepted job not stored: %v", err)
	}
}

func TestReplayJobRetentionIsConfigurable(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{Retention: 48 * time.Hour})
	_, tok := h.org("o")
	p := h.call(http.MethodPut, "/v3/audit-log-replay-job", tok, map[string]any{
		"start_at": rfc(epoch.Add(-3 * 24 * time.Hour)), "end_at": rfc(epoch),
	}).problem(t, http.StatusBadRequest)
	if ip := p["invalid_parameters"].([]any)[0].(map[string]any); !strings.Contains(ip["reason"].(string), "2 days") {
		t.Errorf("reason %q does not name the 2-day retention", ip["reason"])
	}
	h.call(http.MethodPut, "/v3/audit-log-replay-job", tok, map[string]any{
		"start_at": rfc(epoch.Add(-47 * time.Hour)), "end_at": rfc(epoch),
	}).expect(t, http.StatusAccepted)
}

func TestReplayJobUnconfiguredAndRoles(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	org, admin := h.org("o")
	for _, path := range []string{"/v2/audit-log-replay-job", "/v3/audit-log-replay-job"} {
		var j map[string]any
		h.call(http.MethodGet, path, admin, nil).expect(t, http.StatusOK).decode(t, &j)
		_, start := j["start_at"]
		_, end := j["end_at"]
		_, updated := j["updated_at"]
		if j["status"] != "unconfigured" || start || end || updated {
			t.Errorf("%s before any job: %v", path, j)
		}
		if _, ok := j["progress"]; ok {
			t.Errorf("%s: progress shown before any job", path)
		}
	}
	body := map[string]any{"start_at": rfc(epoch.Add(-time.Hour)), "end_at": rfc(epoch)}
	for _, tc := range []struct {
		role     store.Role
		get, put int
	}{
		{store.RoleReadOnly, 200, 403},
		{store.RoleProducer, 403, 403},
		{store.RolePortalAdmin, 403, 403},
		{store.RoleAuditLogAdmin, 200, 202},
	} {
		tok := h.token(org, tc.role, false, 0)
		h.call(http.MethodGet, "/v3/audit-log-replay-job", tok, nil).expect(t, tc.get)
		h.call(http.MethodPut, "/v3/audit-log-replay-job", tok, body).expect(t, tc.put)
	}
	h.call(http.MethodGet, "/v3/audit-log-replay-job", "", nil).problem(t, http.StatusUnauthorized)
}

func TestReplayJobRunsAndShowsProgress(t *testing.T) {
	t.Parallel()
	f := newFullHarness(t, Config{}, false)
	org, tok := f.org("o")
	f.webhookTo(tok, "")
	stream := store.StreamID(org)
	in := appendEntries(t, f.st, stream, org, "", "in", []time.Time{epoch.Add(-30 * time.Minute), epoch.Add(-10 * time.Minute)}, 120)
	out := appendEntries(t, f.st, stream, org, "", "out", []time.Time{epoch.Add(-3 * time.Hour)}, 10)

	var j replayJobJSON
	f.call(http.MethodPut, "/v3/audit-log-replay-job", tok, map[string]any{
		"start_at": rfc(epoch.Add(-time.Hour)), "end_at": rfc(epoch),
	}).expect(t, http.StatusAccepted).decode(t, &j)
	if j.Status != "accepted" || !j.StartAt.Equal(epoch.Add(-time.Hour)) || !j.EndAt.Equal(epoch) || j.Progress != nil {
		t.Fatalf("PUT answered %+v", j)
	}
	j = f.waitReplay("/v3/audit-log-replay-job", tok, "completion", finished)
	if j.Status != "completed" || j.Progress == nil || j.Progress.Sent != j.Progress.Total || j.Error != "" {
		t.Fatalf("job %+v, want completed with all sent", j)
	}
	// The window holds the 120 entries plus this org's own audit entries
	// of the setup requests, all made at epoch.
	if j.Progress.Total < 120 {
		t.Errorf("total %d, want at least 120", j.Progress.Total)
	}
	for _, id := range in {
		if n := f.sink.received(id, string(audit.OutcomeSuccess)); n != 1 {
			t.Fatalf("entry %s received %d times, want once", id, n)
		}
	}
	for _, id := range out {
		if f.sink.received(id, string(audit.OutcomeSuccess)) != 0 {
			t.Fatalf("entry %s outside the window was replayed", id)
		}
	}
	lines, bad := f.sink.stats()
	if int64(lines) != j.Progress.Total || bad != 0 {
		t.Errorf("sink got %d lines (%d with bad signatures), want %d, all signed", lines, bad, j.Progress.Total)
	}
	// v2 shows the same job.
	var v2 replayJobJSON
	f.call(http.MethodGet, "/v2/audit-log-replay-job", tok, nil).expect(t, http.StatusOK).decode(t, &v2)
	if v2.Status != "completed" || *v2.Progress != *j.Progress {
		t.Errorf("v2 shows %+v, v3 %+v", v2, j)
	}
}

func TestReplayJobConflictWhileRunning(t *testing.T) {
	t.Parallel()
	f := newFullHarness(t, Config{}, false)
	org, tok := f.org("o")
	f.webhookTo(tok, "")
	appendEntries(t, f.st, store.StreamID(org), org, "", "e", []time.Time{epoch.Add(-time.Minute)}, 80)
	body := map[string]any{"start_at": rfc(epoch.Add(-time.Hour)), "end_at": rfc(epoch)}

	f.sink.hold.Store(true)
	f.call(http.MethodPut, "/v3/audit-log-replay-job", tok, body).expect(t, http.StatusAccepted)
	<-f.sink.held // the first batch is at the destination: the job is running
	j := f.waitReplay("/v3/audit-log-replay-job", tok, "running", func(j replayJobJSON) bool { return j.Status == "running" })
	if j.Progress == nil || j.Progress.Sent != 0 || j.Progress.Total < 80 {
		t.Errorf("running job shows %+v", j.Progress)
	}
	for _, path := range []string{"/v3/audit-log-replay-job", "/v2/audit-log-replay-job"} {
		p := f.call(http.MethodPut, path, tok, body).problem(t, http.StatusConflict)
		if p["detail"] != "A replay job is currently running" {
			t.Errorf("%s: 409 detail %q", path, p["detail"])
		}
	}
	f.sink.unhold()
	j = f.waitReplay("/v3/audit-log-replay-job", tok, "completion", finished)
	if j.Status != "completed" {
		t.Fatalf("job %+v, want completed", j)
	}
	// Once it is over, a new job is accepted.
	f.call(http.MethodPut, "/v3/audit-log-replay-job", tok, body).expect(t, http.StatusAccepted)
}

func TestReplayJobFailsWithoutAnEnabledWebhook(t *testing.T) {
	t.Parallel()
	f := newFullHarness(t, Config{}, false)
	_, tok := f.org("o")
	f.call(http.MethodPut, "/v3/audit-log-replay-job", tok, map[string]any{
		"start_at": rfc(epoch.Add(-time.Hour)), "end_at": rfc(epoch),
	}).expect(t, http.StatusAccepted)
	j := f.waitReplay("/v3/audit-log-replay-job", tok, "failure", finished)
	if j.Status != "failed" || !strings.Contains(j.Error, "webhook") {
		t.Fatalf("job %+v, want failed naming the webhook", j)
	}
}

func TestPortalReplayJob(t *testing.T) {
	t.Parallel()
	f := newFullHarness(t, Config{}, false)
	org, tok := f.org("o")
	_, otherTok := f.org("other")
	var p struct {
		ID string `json:"id"`
	}
	f.call(http.MethodPost, "/v3/portals", tok, map[string]any{"name": "dev"}).expect(t, http.StatusCreated).decode(t, &p)
	f.webhookTo(tok, p.ID)
	path := "/v3/portals/" + p.ID + "/audit-log-replay-job"
	ids := appendEntries(t, f.st, store.StreamID(p.ID), org, p.ID, "login", []time.Time{epoch.Add(-2 * time.Hour)}, 30)
	// The org's own entries are another stream: not part of a portal replay.
	orgIDs := appendEntries(t, f.st, store.StreamID(org), org, "", "org", []time.Time{epoch.Add(-2 * time.Hour)}, 5)

	var j replayJobJSON
	f.call(http.MethodGet, path, tok, nil).expect(t, http.StatusOK).decode(t, &j)
	if j.Status != "unconfigured" {
		t.Fatalf("portal job before any: %+v", j)
	}
	body := map[string]any{"start_at": rfc(epoch.Add(-6 * time.Hour)), "end_at": rfc(epoch)}
	f.call(http.MethodPut, path, otherTok, body).problem(t, http.StatusNotFound)
	f.call(http.MethodGet, path, otherTok, nil).problem(t, http.StatusNotFound)
	f.call(http.MethodPut, "/v3/portals/not-a-uuid/audit-log-replay-job", tok, body).problem(t, http.StatusBadRequest)
	f.call(http.MethodPut, path, tok, body).expect(t, http.StatusAccepted)
	j = f.waitReplay(path, tok, "completion", finished)
	if j.Status != "completed" || j.Progress.Total != 30 || j.Progress.Sent != 30 {
		t.Fatalf("portal job %+v, want 30 of 30 sent", j)
	}
	for _, id := range ids {
		if f.sink.received(id, string(audit.OutcomeSuccess)) != 1 {
			t.Fatalf("portal entry %s not replayed once", id)
		}
	}
	for _, id := range orgIDs {
		if f.sink.received(id, string(audit.OutcomeSuccess)) != 0 {
			t.Fatalf("org entry %s sent by a portal replay", id)
		}
	}
	// The org job is separate and still unconfigured.
	f.call(http.MethodGet, "/v3/audit-log-replay-job", tok, nil).expect(t, http.StatusOK).decode(t, &j)
	if j.Status != "unconfigured" {
		t.Errorf("org job %+v after a portal replay", j)
	}
}

// The scenario: the SIEM answers 500 for a while, so live delivery
// fails; once it is back, a replay of that window delivers every entry
// produced meanwhile.
func TestReplayRecoversWhatAnOutageMissed(t *testing.T) {
	t.Parallel()
	f := newFullHarness(t, Config{}, true)
	org, tok := f.org("o")
	f.webhookTo(tok, "")
	producer := f.token(org, store.RoleProducer, false, 0)
	f.advanceRetries()

	f.sink.failStatus.Store(http.StatusInternalServerError)
	start := f.clk.Now()
	var lines strings.Builder
	var ids []string
	for i := range 40 {
		id := "outage-" + itoa(i)
		ids = append(ids, id)
		lines.WriteString(`{"event_class_id":"AUTHENTICATION_TYPE_BASIC","name":"AUTHENTICATION_OUTCOME_SUCCESS","request":"/login","src":"198.51.100.4","principal_id":"u1","trace_id":"` + id + `","user_agent":"gw"}` + "\n")
	}
	f.callWith(http.MethodPost, "/v1/entries", producer, lines.String(), map[string]string{"Content-Type": "application/x-ndjson"}).
		expect(t, http.StatusAccepted)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var st statusJSON
		f.call(http.MethodGet, "/v3/audit-log-webhook/status", tok, nil).expect(t, http.StatusOK).decode(t, &st)
		if st.WebhookStatus == "inactive" && st.LastResponseCode != nil && *st.LastResponseCode == 500 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook never went inactive: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, id := range ids {
		if f.sink.received(id, string(audit.OutcomeSuccess)) != 0 {
			t.Fatalf("%s arrived while the destination was down", id)
		}
	}

	f.sink.failStatus.Store(0)
	f.call(http.MethodPut, "/v3/audit-log-replay-job", tok, map[string]any{
		"start_at": rfc(start.Add(-time.Minute)), "end_at": rfc(f.clk.Now()),
	}).expect(t, http.StatusAccepted)
	j := f.waitReplay("/v3/audit-log-replay-job", tok, "completion", finished)
	if j.Status != "completed" || j.Progress.Sent != j.Progress.Total || j.Progress.Total < 40 {
		t.Fatalf("job %+v, want completed with every entry of the window", j)
	}
	for _, id := range ids {
		if f.sink.received(id, string(audit.OutcomeSuccess)) == 0 {
			t.Fatalf("%s missed by the outage was not delivered by the replay", id)
		}
	}
	if _, bad := f.sink.stats(); bad != 0 {
		t.Errorf("%d lines with bad signatures", bad)
	}
}
