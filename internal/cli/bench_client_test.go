package cli

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// benchTestServer answers ingest requests the way the server does and
// counts the connections they came on.
func benchTestServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func TestBenchConnPosts(t *testing.T) {
	t.Parallel()
	var closeEvery atomic.Bool
	srv, conns := benchTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		switch {
		case r.URL.Path != "/v1/entries" || r.Header.Get("Authorization") != "Bearer tok" ||
			r.Header.Get("Content-Type") != "application/x-ndjson":
			http.Error(w, "bad request line or headers", http.StatusBadRequest)
			return
		case string(b) == "refuse\n":
			http.Error(w, "refused\nsecond line", http.StatusForbidden)
			return
		}
		if closeEvery.Load() {
			w.Header().Set("Connection", "close")
		}
		w.WriteHeader(http.StatusAccepted)
	})
	c, err := newBenchConn(srv.URL, "tok")
	if err != nil || c == nil {
		t.Fatalf("newBenchConn: %v, %v", c, err)
	}
	defer c.close()
	ctx := context.Background()
	for range 5 {
		if err := c.post(ctx, []byte("{}\n")); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("5 requests on %d connections, want 1 (keep-alive)", n)
	}
	// After an answer that closes the connection, the next post dials anew:
	// the first of these goes on the open connection, the other two on new ones.
	closeEvery.Store(true)
	for range 3 {
		if err := c.post(ctx, []byte("{}\n")); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 3 {
		t.Fatalf("%d connections, want 3", n)
	}
	closeEvery.Store(false)
	err = c.post(ctx, []byte("refuse\n"))
	if err == nil || !strings.Contains(err.Error(), "ingest answered 403: refused second line") {
		t.Fatalf("refused post: %v", err)
	}
	// The connection stays usable after a refusal.
	if err := c.post(ctx, []byte("{}\n")); err != nil {
		t.Fatal(err)
	}
}

// A server that closed an idle keep-alive connection costs no request: the
// post is made again on a new connection.
func TestBenchConnRedialsAClosedConnection(t *testing.T) {
	t.Parallel()
	srv, conns := benchTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	})
	c, _ := newBenchConn(srv.URL, "tok")
	defer c.close()
	if err := c.post(context.Background(), []byte("{}\n")); err != nil {
		t.Fatal(err)
	}
	srv.CloseClientConnections()
	if err := c.post(context.Background(), []byte("{}\n")); err != nil {
		t.Fatalf("post after the server closed the connection: %v", err)
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
}

// Cancelling the run ends a post whose answer never comes.
func TestBenchConnCancel(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv, _ := benchTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
	})
	defer close(release)
	c, _ := newBenchConn(srv.URL, "tok")
	defer c.close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.post(ctx, []byte("{}\n")) }()
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a cancelled post succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled post still waits")
	}
}

// Producers of an https server go through net/http.
func TestBenchConnOnlyForPlainHTTP(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"https://127.0.0.1:1", "unix:///x"} {
		if c, err := newBenchConn(u, "tok"); c != nil || err != nil {
			t.Errorf("%s: %v, %v; want nil, nil", u, c, err)
		}
	}
	if _, err := newBenchConn("http://[::1", "tok"); err == nil {
		t.Error("a malformed URL was accepted")
	}
}
