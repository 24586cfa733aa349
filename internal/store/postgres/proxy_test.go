package postgres

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/store/postgres/pgtest"
)

// pgtestFreePort returns a TCP port of 127.0.0.1 nothing listens on.
func pgtestFreePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

// proxy forwards TCP connections from its own address to target; cut
// severs every connection and stops listening (the database vanishes),
// restore listens again on the same address. stall stops forwarding bytes
// while keeping every connection open and accepting new ones (a network
// partition, or a primary gone without a word: nothing answers, nothing
// is refused), unstall forwards again.
type proxy struct {
	t      testing.TB
	target string
	addr   string

	mu      sync.Mutex
	l       net.Listener
	conns   map[net.Conn]bool
	stalled chan struct{} // non-nil while stalled; closed by unstall
	wg      sync.WaitGroup
}

// proxiedDB is a test database reached through a proxy the test can cut
// or stall, and the URL that goes through it.
func proxiedDB(t testing.TB) (*proxy, string) {
	t.Helper()
	cfg, err := pgx.ParseConfig(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	return p, fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", cfg.User, p.addr, cfg.Database)
}

func newProxy(t testing.TB, target string) *proxy {
	p := &proxy{t: t, target: target, conns: map[net.Conn]bool{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = l.Addr().String()
	p.serve(l)
	t.Cleanup(func() { p.unstall(); p.cut(); p.wg.Wait() })
	return p
}

func (p *proxy) serve(l net.Listener) {
	p.mu.Lock()
	p.l = l
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = true, true
			p.mu.Unlock()
			p.wg.Go(func() { p.copy(up, c); up.Close() })
			p.wg.Go(func() { p.copy(c, up); c.Close() })
		}
	})
}

// copy forwards src to dst, holding each chunk read while stalled.
func (p *proxy) copy(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			wait := p.stalled
			p.mu.Unlock()
			if wait != nil {
				<-wait
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *proxy) stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalled == nil {
		p.stalled = make(chan struct{})
	}
}

func (p *proxy) unstall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalled != nil {
		close(p.stalled)
		p.stalled = nil
	}
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.l != nil {
		p.l.Close()
		p.l = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *proxy) restore() {
	l, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
	}
	p.serve(l)
}
