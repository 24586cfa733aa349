package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/tenancy"
)

// budgetServer is the API over a real store with the given ingest bound;
// recording calls whose first trace id starts with "held-" wait for
// release.
func budgetServer(t *testing.T, bound int64) (st store.EventLog, org, secret string, srv *httptest.Server, entered chan struct{}, release func()) {
	t.Helper()
	sq := openTestStore(t)
	clk := clock.NewFake(epoch)
	ten := tenancy.New(sq, clk)
	o, err := ten.CreateOrg(context.Background(), "o")
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err = ten.CreateToken(context.Background(), tenancy.TokenSpec{OrgID: o.ID, Name: "p", Role: store.RoleProducer})
	if err != nil {
		t.Fatal(err)
	}
	entered, held := make(chan struct{}, 1), make(chan struct{})
	var once sync.Once
	rec := prefixRecorder{next: store.LogRecorder{Log: sq}, prefix: "held-",
		hook: func(ctx context.Context, next store.Recorder, es []store.NewEntry) ([]int64, error) {
			entered <- struct{}{}
			<-held
			return next.Record(ctx, es)
		}}
	srv = httptest.NewServer(New(Config{IngestMaxInflightBytes: bound}, Deps{Store: sq, Recorder: rec, Clock: clk}))
	t.Cleanup(srv.Close)
	// Before the server closes (cleanups run last first): a failing test
	// still lets a held request finish.
	t.Cleanup(func() { once.Do(func() { close(held) }) })
	return sq, o.ID, secret, srv, entered, func() { once.Do(func() { close(held) }) }
}

// linesOf is n ingest lines whose trace ids start with prefix.
func linesOf(prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(ingestLine(fmt.Sprintf("%s%d", prefix, i)))
		b.WriteByte('\n')
	}
	return b.String()
}

// post sends body; chunked hides its length, so the server reads it
// without a Content-Length.
func post(t *testing.T, srv *httptest.Server, secret, body string, chunked bool) *http.Response {
	t.Helper()
	var r io.Reader = strings.NewReader(body)
	if chunked {
		r = io.MultiReader(r)
	}
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/entries", r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+secret)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// countPrefix counts the org's stored entries whose trace id starts with p.
func countPrefix(t *testing.T, st store.EventLog, org, p string) int {
	t.Helper()
	n := 0
	for trace := range byTrace(t, st, org) {
		if strings.HasPrefix(trace, p) {
			n++
		}
	}
	return n
}

// While one request holds most of the bound, a request that would pass it
// is refused at once with 503 and Retry-After, whether its length is known
// or not, and none of its entries are stored; one that fits is accepted,
// and once the holder is done the refused one fits again.
func TestIngestRefusesPastTheInflightBound(t *testing.T) {
	t.Parallel()
	const bound = 256 << 10
	line := len(ingestLine("xxxxx-000")) + 1
	st, org, secret, srv, entered, release := budgetServer(t, bound)

	held := linesOf("held-", 100<<10/line) // about 100 KiB
	heldDone := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/entries", strings.NewReader(held))
		req.Header.Set("Content-Type", "application/x-ndjson")
		req.Header.Set("Authorization", "Bearer "+secret)
		res, err := srv.Client().Do(req)
		if err != nil {
			heldDone <- 0
			return
		}
		res.Body.Close()
		heldDone <- res.StatusCode
	}()
	<-entered // its body is parsed and reserved; it waits in Record

	over := linesOf("over-", 200<<10/line) // 100 + 200 KiB > 256 KiB
	for _, chunked := range []bool{false, true} {
		res := post(t, srv, secret, over, chunked)
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
			t.Errorf("chunked=%v: status %d, Retry-After %q; want 503 with Retry-After", chunked, res.StatusCode, res.Header.Get("Retry-After"))
		}
	}
	if res := post(t, srv, secret, linesOf("fits-", 100<<10/line), false); res.StatusCode != http.StatusAccepted {
		t.Errorf("a request within the bound: status %d, want 202", res.StatusCode)
	}
	if n := countPrefix(t, st, org, "over-"); n != 0 {
		t.Fatalf("%d entries of refused requests were stored", n)
	}

	release()
	if code := <-heldDone; code != http.StatusAccepted {
		t.Fatalf("held request: status %d, want 202", code)
	}
	for _, chunked := range []bool{false, true} {
		if res := post(t, srv, secret, over, chunked); res.StatusCode != http.StatusAccepted {
			t.Errorf("chunked=%v after the holder finished: status %d, want 202", chunked, res.StatusCode)
		}
	}
}

// Requests that together stay within the bound all succeed, however they
// overlap.
func TestIngestWithinTheInflightBoundAllSucceed(t *testing.T) {
	t.Parallel()
	const bound = 256 << 10
	line := len(ingestLine("par-0-0000")) + 1
	st, org, secret, srv, _, _ := budgetServer(t, bound)
	const n = 8
	per := (bound / n) / line // lines per request
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Go(func() {
			codes[i] = post(t, srv, secret, linesOf(fmt.Sprintf("par-%d-", i), per), false).StatusCode
		})
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusAccepted {
			t.Errorf("request %d: status %d, want 202", i, c)
		}
	}
	if got := countPrefix(t, st, org, "par-"); got != n*per {
		t.Errorf("stored %d entries, want %d", got, n*per)
	}
}

// The reader reserves a body of unknown length chunk by chunk, so it can
// read a body larger than one chunk, and gives everything back.
func TestIngestBudgetReleasesWhatItReserved(t *testing.T) {
	t.Parallel()
	for _, size := range []int{40 << 10, 64 << 10} { // the second as large as the bound and the body's cap
		b := newIngestBudget(64 << 10)
		r, release, err := b.reader(strings.NewReader(strings.Repeat("x", size)), 0, 64<<10)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, r); err != nil || n != int64(size) {
			t.Fatalf("%d bytes: read %d, %v", size, n, err)
		}
		release()
		if !b.sem.TryAcquire(64 << 10) {
			t.Fatalf("%d bytes: the budget was not given back", size)
		}
	}
}
