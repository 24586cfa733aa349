// Package dnstest runs a real DNS server on 127.0.0.1 (a random UDP port)
// for tests: it answers as a recursive resolver would for the names a test
// gives it (CNAME chains followed within its data, A records), NXDOMAIN
// for the others, SERVFAIL or no answer at all (a timeout) where told. A
// CNAME query is answered with the name's own CNAME only, one hop, as
// recursive resolvers do.
package dnstest

import (
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// Server is a DNS server for one test.
type Server struct {
	// Addr is the server's host:port on 127.0.0.1.
	Addr string

	mu     sync.Mutex
	cnames map[string]string
	addrs  map[string]bool
	rcodes map[string]int
	hang   map[string]bool

	queries atomic.Int64
	srv     *dns.Server
}

// Start starts a server that knows no name yet; t's cleanup stops it.
func Start(t testing.TB) *Server {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: pc.LocalAddr().String(), cnames: map[string]string{}, addrs: map[string]bool{},
		rcodes: map[string]int{}, hang: map[string]bool{}}
	started := make(chan struct{})
	s.srv = &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.serve), NotifyStartedFunc: func() { close(started) }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.srv.ActivateAndServe()
	}()
	<-started
	t.Cleanup(func() {
		_ = s.srv.Shutdown()
		<-done
	})
	return s
}

func key(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

// set replaces what the server says about name.
func (s *Server) set(name string, f func(k string)) {
	k := key(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.cnames, k)
	delete(s.addrs, k)
	delete(s.rcodes, k)
	delete(s.hang, k)
	f(k)
}

// CNAME makes name an alias of target.
func (s *Server) CNAME(name, target string) {
	s.set(name, func(k string) { s.cnames[k] = key(target) })
}

// A gives name an address (192.0.2.1) and no CNAME.
func (s *Server) A(name string) { s.set(name, func(k string) { s.addrs[k] = true }) }

// Fail answers queries for name with rcode (dns.RcodeServerFailure: SERVFAIL).
func (s *Server) Fail(name string, rcode int) { s.set(name, func(k string) { s.rcodes[k] = rcode }) }

// Hang leaves queries for name unanswered, so the asker times out.
func (s *Server) Hang(name string) { s.set(name, func(k string) { s.hang[k] = true }) }

// Remove forgets name: it is NXDOMAIN.
func (s *Server) Remove(name string) { s.set(name, func(string) {}) }

// Queries is how many queries the server received.
func (s *Server) Queries() int64 { return s.queries.Load() }

// chainLimit bounds the CNAMEs the server follows in one answer.
const chainLimit = 16

func (s *Server) serve(w dns.ResponseWriter, r *dns.Msg) {
	s.queries.Add(1)
	m := new(dns.Msg)
	m.SetReply(r)
	m.RecursionAvailable = true
	if len(r.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	q := r.Question[0]
	s.mu.Lock()
	defer s.mu.Unlock()
	name := key(q.Name)
	if s.hang[name] {
		return
	}
	if rc, ok := s.rcodes[name]; ok {
		m.Rcode = rc
		_ = w.WriteMsg(m)
		return
	}
	known := false
	for range chainLimit {
		target, isAlias := s.cnames[name]
		switch {
		case isAlias:
			known = true
			m.Answer = append(m.Answer, &dns.CNAME{Hdr: dns.RR_Header{Name: dns.Fqdn(name), Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 60},
				Target: dns.Fqdn(target)})
			if q.Qtype == dns.TypeCNAME {
				break
			}
			name = target
			continue
		case s.addrs[name]:
			known = true
			if q.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: dns.Fqdn(name), Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
					A: net.IPv4(192, 0, 2, 1)})
			}
		}
		break
	}
	if !known {
		m.Rcode = dns.RcodeNameError
	}
	_ = w.WriteMsg(m)
}
