package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// heldSink records every line it receives and holds the first request
// until released, so a test can change things while a delivery is in
// flight.
type heldSink struct {
	mu       sync.Mutex
	lines    map[string]int
	held     chan struct{} // closed when the first request arrives
	release  chan struct{}
	holdOnce sync.Once
}

func (s *heldSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err == nil && r.Header.Get("Content-Encoding") == "gzip" {
		var zr *gzip.Reader
		if zr, err = gzip.NewReader(bytes.NewReader(body)); err == nil {
			body, err = io.ReadAll(zr)
		}
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	for _, l := range bytes.Split(body, []byte("\n")) {
		if len(l) > 0 {
			s.lines[string(l)]++
		}
	}
	s.mu.Unlock()
	first := false
	s.holdOnce.Do(func() { first = true })
	if first {
		close(s.held)
		select {
		case <-s.release:
		case <-r.Context().Done(): // the sender gave up on it
		}
	}
	w.WriteHeader(http.StatusOK)
}

// counts says how many distinct lines arrived and how many arrived twice.
func (s *heldSink) counts() (distinct, repeated int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.lines {
		if n > 1 {
			repeated++
		}
	}
	return len(s.lines), repeated
}

// Renaming a destination while a request to it is in flight sends nothing
// twice: the rename changes nothing delivery uses, so the request is not
// abandoned and sent again (before the fix, its batch reached the SIEM
// twice).
func TestRenameDuringDeliverySendsNothingTwice(t *testing.T) {
	t.Parallel()
	sink := &heldSink{lines: map[string]int{}, held: make(chan struct{}), release: make(chan struct{})}
	siem := httptest.NewServer(sink)
	t.Cleanup(siem.Close)
	srv := startServe(t, filepath.Join(t.TempDir(), "data"), token)
	// Registered after the server, so it runs before the server stops.
	released := false
	t.Cleanup(func() {
		if !released {
			close(sink.release)
		}
	})

	var dest struct {
		ID string `json:"id"`
	}
	raw := call(t, srv.api, "POST", "/v3/audit-log-destinations", token,
		`{"endpoint":"`+siem.URL+`/","authorization":"Bearer siem","log_format":"json","name":"siem"}`, http.StatusCreated)
	if err := json.Unmarshal(raw, &dest); err != nil {
		t.Fatal(err)
	}
	// The management API audits itself into the org log, which the org
	// webhook delivers: these calls are the entries.
	call(t, srv.api, "PATCH", "/v3/audit-log-webhook", token, `{"audit_log_destination_id":"`+dest.ID+`","enabled":true}`, http.StatusOK)
	select {
	case <-sink.held:
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery reached the sink in 30 s")
	}
	heldAt := time.Now()
	atHold, _ := sink.counts()
	call(t, srv.api, "PATCH", "/v3/audit-log-destinations/"+dest.ID, token, `{"name":"renamed"}`, http.StatusOK)
	for range 3 {
		call(t, srv.api, "GET", "/v3/audit-log-destinations", token, "", http.StatusOK)
	}
	// Give a wrongly restarted dispatcher time to send the held batch again.
	time.Sleep(time.Second)
	if held := time.Since(heldAt); held > 8*time.Second {
		// Past the sender's 10 s request timeout it would send again
		// for that reason, which says nothing of the rename.
		t.Fatalf("the machine took %v for a PATCH and three GETs; the held request nears its timeout", held)
	}
	released = true
	close(sink.release)

	// The entries of the calls after the hold arrive too, and nothing
	// twice; the line count then stays put.
	waitFor(t, 30*time.Second, func() bool { d, _ := sink.counts(); return d > atHold })
	for last := -1; ; time.Sleep(time.Second) {
		d, rep := sink.counts()
		if rep != 0 {
			t.Fatalf("%d of %d lines reached the SIEM twice", rep, d)
		}
		if d == last {
			break
		}
		last = d
	}
}
