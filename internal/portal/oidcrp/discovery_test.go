package oidcrp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/clock"
)

// sizes are the lengths of the client's discovery lock map and result
// cache.
func (c *Client) sizes() (discovering, byIs int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.discovering), len(c.byIs)
}

// TestDiscoveryMapsDoNotGrowWithIssuersTried: a discovery's lock leaves
// the map when it finishes, and a result past its time leaves the cache
// at the next discovery, so neither grows with every issuer ever tried.
func TestDiscoveryMapsDoNotGrowWithIssuersTried(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler()) // no OIDC provider: discovery fails
	defer srv.Close()
	clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	c := New(true, clk.Now)
	const n = 20
	for i := range n {
		if _, err := c.provider(context.Background(), fmt.Sprintf("%s/issuer-%d", srv.URL, i)); !errors.Is(err, ErrUnreachable) {
			t.Fatalf("issuer %d: %v, want ErrUnreachable", i, err)
		}
		if d, _ := c.sizes(); d != 0 {
			t.Fatalf("after issuer %d: %d discovery locks left, want 0", i, d)
		}
	}
	if _, b := c.sizes(); b != n {
		t.Fatalf("%d cached results within their time, want %d", b, n)
	}
	clk.Advance(failureTTL)
	if _, err := c.provider(context.Background(), srv.URL+"/one-more"); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("one more issuer: %v", err)
	}
	if d, b := c.sizes(); d != 0 || b != 1 {
		t.Fatalf("after the failures expired: %d locks, %d cached results; want 0 and 1", d, b)
	}
}

// TestConcurrentDiscoveriesOfAnIssuerAskOnce: requests arriving during an
// issuer's discovery wait for its result, and its lock still leaves the
// map once they are done.
func TestConcurrentDiscoveriesOfAnIssuerAskOnce(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		<-release
		http.NotFound(w, nil)
	}))
	defer srv.Close()
	c := New(true, clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)).Now)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.provider(context.Background(), srv.URL)
			errs <- err
		}()
	}
	// Every request holds or waits for the issuer's lock before the
	// provider answers.
	for {
		c.mu.Lock()
		users := 0
		if d := c.discovering[srv.URL]; d != nil {
			users = d.users
		}
		c.mu.Unlock()
		if users == n {
			break
		}
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrUnreachable) {
			t.Fatalf("a request got %v, want ErrUnreachable", err)
		}
	}
	if h := hits.Load(); h != 1 {
		t.Fatalf("the provider was asked %d times, want 1", h)
	}
	if d, _ := c.sizes(); d != 0 {
		t.Fatalf("%d discovery locks left, want 0", d)
	}
}
