package replay

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/delivery"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlite"
)

// t0 is the fake clock's start: every test's entries are just before it.
var t0 = time.Date(2026, 7, 28, 12, 0, 0, 0, time.UTC)

// edSigner signs with a fresh Ed25519 key, as the signing package does.
type edSigner struct{ key ed25519.PrivateKey }

func (s edSigner) Sign(msg []byte) []byte { return ed25519.Sign(s.key, msg) }

func newSigner(t *testing.T) edSigner {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return edSigner{priv}
}

func openStore(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newID(t *testing.T) string {
	t.Helper()
	u, err := uuid.NewV7()
	if err != nil {
		t.Fatal(err)
	}
	return u.String()
}

// sink is a SIEM endpoint on 127.0.0.1 that records the trace ids of the
// lines it accepts. It answers failStatus while that is non-zero; from the
// holdFrom-th request on (counting from 1; 0: never) it holds requests
// until the test ends or the client gives up.
type sink struct {
	srv        *httptest.Server
	failStatus atomic.Int32
	holdFrom   atomic.Int64
	arrivals   atomic.Int64
	held       chan struct{} // gets a value when a request starts waiting
	release    chan struct{}
	unholdOnce sync.Once

	mu       sync.Mutex
	got      map[string]int // trace id -> times received
	requests int
}

func newSink(t *testing.T) *sink {
	t.Helper()
	s := &sink{got: map[string]int{}, held: make(chan struct{}, 16), release: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.unhold()
		s.srv.Close()
	})
	return s
}

// unhold lets held requests through and holds no more.
func (s *sink) unhold() {
	s.holdFrom.Store(0)
	s.unholdOnce.Do(func() { close(s.release) })
}

func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	if n := s.arrivals.Add(1); s.holdFrom.Load() > 0 && n >= s.holdFrom.Load() {
		s.held <- struct{}{}
		select {
		case <-s.release:
		case <-r.Context().Done():
			return
		}
	}
	if st := s.failStatus.Load(); st != 0 {
		w.WriteHeader(int(st))
		return
	}
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		http.Error(w, "not gzip", http.StatusBadRequest)
		return
	}
	var ids []string
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var line struct {
			TraceID string `json:"trace_id"`
			Sig     string `json:"sig"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line.Sig == "" {
			http.Error(w, "bad line", http.StatusBadRequest)
			return
		}
		ids = append(ids, line.TraceID)
	}
	if _, err := io.Copy(io.Discard, zr); err != nil || sc.Err() != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.requests++
	for _, id := range ids {
		s.got[id]++
	}
	s.mu.Unlock()
}

func (s *sink) received() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.got))
	for k, v := range s.got {
		out[k] = v
	}
	return out
}

// fixture is an org whose enabled webhook points at a sink, with a
// delivery manager as the replay sender.
type fixture struct {
	st     *sqlite.Store
	clk    *clock.Fake
	sink   *sink
	org    string
	sender *delivery.Manager
}

func newFixture(t *testing.T, path string) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{st: openStore(t, path), clk: clock.NewFake(t0), sink: newSink(t), org: newID(t)}
	if err := f.st.CreateOrg(ctx, store.Org{ID: f.org, Name: "acme", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	dest := store.Destination{ID: newID(t), OrgID: f.org, Name: "siem", Endpoint: f.sink.srv.URL,
		Authorization: "Bearer x", LogFormat: audit.FormatJSON, CreatedAt: t0, UpdatedAt: t0}
	if err := f.st.CreateDestination(ctx, dest); err != nil {
		t.Fatal(err)
	}
	if err := f.st.PutWebhook(ctx, store.Webhook{Stream: store.StreamID(f.org), OrgID: f.org,
		DestinationID: dest.ID, Enabled: true, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	f.sender = f.newSender(t)
	return f
}

// newSender returns a delivery manager (not running: replays only use its
// SendBatch) with the documented retry policy and no jitter.
func (f *fixture) newSender(t *testing.T) *delivery.Manager {
	t.Helper()
	m, err := delivery.New(delivery.Config{InsecureDestinations: true, Retry: delivery.RetryPolicy{Rand: func() float64 { return 0 }}},
		delivery.Deps{Store: f.st, Signer: newSigner(t), Renderer: audit.Renderer{}, Clock: f.clk})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// appendAt appends one authentication entry per time, trace ids "<prefix>-<i>".
func (f *fixture) appendAt(t *testing.T, prefix string, times []time.Time) []string {
	t.Helper()
	entries := make([]store.NewEntry, len(times))
	ids := make([]string, len(times))
	for i, ts := range times {
		ids[i] = prefix + "-" + strconv.Itoa(i)
		entries[i] = store.NewEntry{Stream: store.StreamID(f.org), Entry: audit.Entry{
			Kind: audit.KindAuthentication, Time: ts, Product: audit.ProductKonnect,
			ClassID: audit.AuthTypePAT, Name: string(audit.OutcomeSuccess), Src: "203.0.113.7",
			OrgID: f.org, PrincipalID: "p1", TraceID: ids[i], UserAgent: "test", Request: "/v3/x",
		}}
	}
	if _, err := f.st.Append(context.Background(), entries); err != nil {
		t.Fatal(err)
	}
	return ids
}

// putJob stores an accepted job as the API does.
func (f *fixture) putJob(t *testing.T, start, end time.Time) {
	t.Helper()
	now := f.clk.Now()
	err := f.st.PutReplayJob(context.Background(), store.ReplayJob{Stream: store.StreamID(f.org), OrgID: f.org,
		StartAt: start, EndAt: end, Status: store.JobAccepted, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
}

// start runs a runner until the test ends or stop is called.
func (f *fixture) start(t *testing.T, cfg Config, sender Sender) (*Runner, func()) {
	t.Helper()
	r := New(cfg, Deps{Store: f.st, Sender: sender, Clock: f.clk})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return r, stop
}

// waitJob polls the stored job until cond holds; the runner reports
// progress only through the store, as the API sees it.
func (f *fixture) waitJob(t *testing.T, what string, cond func(store.ReplayJob) bool) store.ReplayJob {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		j, err := f.st.GetReplayJob(context.Background(), store.StreamID(f.org))
		if err == nil && cond(j) {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; job %+v, err %v", what, j, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// advanceWhileWaiting moves the fake clock past every retry wait the sender
// starts, until the test ends, so failing deliveries exhaust their retries
// without real waiting.
func (f *fixture) advanceWhileWaiting(t *testing.T) {
	t.Helper()
	t.Cleanup(f.clk.AutoAdvance())
}

func isDone(j store.ReplayJob) bool {
	return j.Status == store.JobCompleted || j.Status == store.JobFailed
}

// times returns n times from start, step apart.
func times(start time.Time, step time.Duration, n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = start.Add(time.Duration(i) * step)
	}
	return out
}
