package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/tenancy"
)

// The deadline for a body's next bytes is the nearest of the stall limit,
// the time by which what was read keeps the average at the floor, and the
// server's own bound on the request.
func TestBodyPaceDeadline(t *testing.T) {
	t.Parallel()
	start := epoch
	p := bodyPace{stall: 5 * time.Second, rate: 64 << 10, grace: 5 * time.Second, start: start, end: start.Add(60 * time.Second)}
	cases := []struct {
		name    string
		pace    bodyPace
		at      time.Duration // since start
		read    int64
		wantAt  time.Duration // since start
		wantWhy string
	}{
		{"first read: the stall limit", p, 0, 0, 5 * time.Second, slowStalled},
		{"behind the floor: the rate decides", p, 3 * time.Second, 0, 5 * time.Second, slowBelowRate},
		{"ahead of the floor: the stall limit", p, 3 * time.Second, 1 << 20, 8 * time.Second, slowStalled},
		{"1 MiB at 64 KiB/s is due by grace+16s", p, 19 * time.Second, 1 << 20, 21 * time.Second, slowBelowRate},
		{"near the server's bound: it decides", p, 58 * time.Second, 16 << 20, 60 * time.Second, slowTooLong},
		{"no floor", bodyPace{stall: time.Second, start: start}, 30 * time.Second, 0, 31 * time.Second, slowStalled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, why := tc.pace.deadline(start.Add(tc.at), tc.read)
			if !d.Equal(start.Add(tc.wantAt)) || why != tc.wantWhy {
				t.Errorf("deadline = +%v %s, want +%v %s", d.Sub(start), why, tc.wantAt, tc.wantWhy)
			}
		})
	}
}

// A reader that stalls holds at most one chunk beyond what it read, even
// with a large Content-Length; a known length that cannot fit is refused
// before anything is read.
func TestIngestBudgetHoldsLittleForAStalledReader(t *testing.T) {
	t.Parallel()
	const bound = 1 << 20
	b := newIngestBudget(bound)
	pr, pw := io.Pipe()
	defer pw.Close()
	r, release, err := b.reader(pr, bound, bound)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = pw.Write(make([]byte, 4<<10)) }()
	if n, err := io.ReadFull(r, make([]byte, 4<<10)); n != 4<<10 || err != nil {
		t.Fatalf("read %d, %v", n, err)
	}
	// The writer sends nothing more: the reader has stalled.
	if b.inUse > b.chunk {
		t.Errorf("a stalled reader of a %d-byte body holds %d bytes, want at most one chunk (%d)", bound, b.inUse, b.chunk)
	}
	if _, _, err := b.reader(strings.NewReader(""), bound, bound); err != errOverBudget {
		t.Errorf("a body that cannot fit now: %v, want errOverBudget", err)
	}
	release()
	if !b.sem.TryAcquire(bound) {
		t.Fatal("the budget was not given back")
	}
}

// slowConn is a raw connection to srv that has sent the headers of an
// ingest request of length bytes (the server reads the body as it comes).
func slowConn(t *testing.T, addr, secret string, length int) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /v1/entries HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-ndjson\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n", addr, secret, length)
	return conn
}

// answer reads the response on conn.
func answer(t *testing.T, conn net.Conn) (*http.Response, map[string]any) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // a hang fails the test, it does not decide it
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer res.Body.Close()
	var doc map[string]any
	if strings.Contains(res.Header.Get("Content-Type"), "json") {
		if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
			t.Fatal(err)
		}
	}
	return res, doc
}

// waitUntil polls cond, which another goroutine makes true.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (b *ingestBudget) held() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inUse
}

func slowCount(t *testing.T, s *server, reason string) float64 {
	t.Helper()
	var m dto.Metric
	if err := s.ingestSlow.WithLabelValues(reason).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// A body that stops arriving is cut with a 408 problem once the stall
// limit passes: its budget is back, nothing of it is stored, the request
// is audited like any failed ingest and counted; meanwhile an honest
// producer's request is accepted.
func TestIngestStalledBodyIsCut(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{IngestMaxInflightBytes: 1 << 20, IngestBodyStallTimeout: 200 * time.Millisecond, IngestMinBodyRate: -1})
	org, _ := h.org("o")
	_, secret, err := h.ten.CreateToken(context.Background(), tenancy.TokenSpec{OrgID: org, Name: "gw", Role: store.RoleProducer})
	if err != nil {
		t.Fatal(err)
	}
	addr := h.srv.Listener.Addr().String()

	part := linesOf("stalled-", 20)
	conn := slowConn(t, addr, secret, 512<<10) // promises 512 KiB
	if _, err := io.WriteString(conn, part); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the stalled request reserves", func() bool { return h.api.ingestBudget.held() > 0 })
	if held := h.api.ingestBudget.held(); held > h.api.ingestBudget.chunk {
		t.Errorf("the stalled request holds %d bytes, want at most one chunk (%d)", held, h.api.ingestBudget.chunk)
	}
	// 1 MiB - 512 KiB: this body did not fit while the whole promised
	// length was reserved up front.
	honest := linesOf("honest-", (600<<10)/(len(ingestLine("honest-000"))+1))
	h.callWith(http.MethodPost, "/v1/entries", secret, honest, ndjson).expect(t, http.StatusAccepted)

	res, doc := answer(t, conn)
	if res.StatusCode != http.StatusRequestTimeout || res.Header.Get("Content-Type") != "application/problem+json" || !res.Close {
		t.Fatalf("stalled request: status %d, Content-Type %q, close %v; want 408 problem+json closing the connection", res.StatusCode, res.Header.Get("Content-Type"), res.Close)
	}
	if detail, _ := doc["detail"].(string); !strings.Contains(detail, "too slowly") || doc["status"] != float64(408) {
		t.Errorf("problem = %v", doc)
	}
	if held := h.api.ingestBudget.held(); held != 0 {
		t.Errorf("after the cut %d bytes are still reserved", held)
	}
	if n := countPrefix(t, h.st, org, "stalled-"); n != 0 {
		t.Errorf("%d entries of the cut request were stored", n)
	}
	if n := countPrefix(t, h.st, org, "honest-"); n == 0 {
		t.Error("the honest request's entries were not stored")
	}
	kinds := kindsOfTrace(t, h, org, res.Header.Get("X-Sigtrail-Trace-Id"))
	if len(kinds) != 3 {
		t.Errorf("cut request audited as %v, want authentication, authorization and access", kinds)
	}
	for _, e := range h.entries(org) {
		if e.Entry.TraceID == res.Header.Get("X-Sigtrail-Trace-Id") && e.Entry.Kind == audit.KindAccess && e.Entry.Status != http.StatusRequestTimeout {
			t.Errorf("access entry status %d, want 408", e.Entry.Status)
		}
	}
	if n := slowCount(t, h.api, slowStalled); n != 1 {
		t.Errorf("sigtrail_ingest_too_slow_total{reason=stalled} = %v, want 1", n)
	}
}

// trickle writes body to conn in pieces of size, one every gap, until it is
// all sent or the connection fails (the server cut it).
func trickle(conn net.Conn, body string, size int, gap time.Duration) {
	for len(body) > 0 {
		n := min(size, len(body))
		if _, err := io.WriteString(conn, body[:n]); err != nil {
			return
		}
		body = body[n:]
		time.Sleep(gap) // the client's pace, not a wait for the server
	}
}

// A body that keeps arriving above the floor is accepted however long it
// takes; one that keeps arriving below it is cut once the grace is over.
func TestIngestBodyRateFloor(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{IngestBodyStallTimeout: 2 * time.Second, IngestMinBodyRate: 16 << 10, IngestBodyGrace: 200 * time.Millisecond})
	org, _ := h.org("o")
	_, secret, err := h.ten.CreateToken(context.Background(), tenancy.TokenSpec{OrgID: org, Name: "gw", Role: store.RoleProducer})
	if err != nil {
		t.Fatal(err)
	}
	addr := h.srv.Listener.Addr().String()
	cases := []struct {
		name   string
		prefix string
		lines  int
		piece  int
		gap    time.Duration
		want   int
	}{
		// about 200 KiB/s, twelve times the floor, for about half a second
		{"steady above the floor", "steady-", 400, 4 << 10, 20 * time.Millisecond, http.StatusAccepted},
		// about 1 KiB/s: never stalls, but far below the floor
		{"trickle below the floor", "trickle-", 400, 50, 50 * time.Millisecond, http.StatusRequestTimeout},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := linesOf(tc.prefix, tc.lines)
			conn := slowConn(t, addr, secret, len(body))
			go trickle(conn, body, tc.piece, tc.gap)
			res, _ := answer(t, conn)
			if res.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.want)
			}
			stored := countPrefix(t, h.st, org, tc.prefix)
			if tc.want == http.StatusAccepted && stored != tc.lines || tc.want != http.StatusAccepted && stored != 0 {
				t.Errorf("%d entries stored", stored)
			}
		})
	}
	t.Cleanup(func() {
		if n := slowCount(t, h.api, slowBelowRate); n != 1 {
			t.Errorf("sigtrail_ingest_too_slow_total{reason=below_rate} = %v, want 1", n)
		}
	})
}

// A full-size body sent at loopback speed is accepted under the same short
// limits: pacing costs a fast producer nothing.
func TestIngestFastFullBodyUnaffected(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{IngestBodyStallTimeout: 200 * time.Millisecond, IngestBodyGrace: 200 * time.Millisecond})
	org, _ := h.org("o")
	_, secret, err := h.ten.CreateToken(context.Background(), tenancy.TokenSpec{OrgID: org, Name: "gw", Role: store.RoleProducer})
	if err != nil {
		t.Fatal(err)
	}
	line := len(ingestLine("fast-00000")) + 1
	body := linesOf("fast-", IngestMaxBody/line)
	if len(body) > IngestMaxBody || len(body) < IngestMaxBody-(64<<10) {
		t.Fatalf("body of %d bytes, want just under %d", len(body), IngestMaxBody)
	}
	h.callWith(http.MethodPost, "/v1/entries", secret, body, ndjson).expect(t, http.StatusAccepted)
	if held := h.api.ingestBudget.held(); held != 0 {
		t.Errorf("%d bytes still reserved", held)
	}
}
