package customdomain

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/sigtrail/sigtrail/internal/dnstest"
)

func TestLeadsToAgainstARealDNSServer(t *testing.T) {
	t.Parallel()
	srv := dnstest.Start(t)
	const zone = "portals.example.net"
	const target = "acme." + zone
	srv.A(target)
	srv.CNAME("direct.bigcorp.test", target)
	srv.CNAME("Chain.Bigcorp.Test", "hop1.bigcorp.test")
	srv.CNAME("hop1.bigcorp.test", "hop2.cdn.test")
	srv.CNAME("hop2.cdn.test", target)
	// A default domain that is itself an alias (of a load balancer) is
	// the first name under the zone, which is what counts.
	srv.CNAME("lb-target.bigcorp.test", "lbportal."+zone)
	srv.CNAME("lbportal."+zone, "lb.example.net")
	srv.A("lb.example.net")
	// The operator's ingress: every default domain an alias of it (as a
	// wildcard *.zone CNAME ingress.zone would make them). A portal named
	// "ingress" must not take the names pointing at other portals.
	srv.CNAME("developer.victim.test", "victim."+zone)
	srv.CNAME("victim."+zone, "ingress."+zone)
	srv.A("ingress." + zone)
	// Another portal's default domain earlier in the chain is that
	// portal's, even when it leads on to target.
	srv.CNAME("via-rival.bigcorp.test", "rival."+zone)
	srv.CNAME("rival."+zone, target)
	// Wrong targets have addresses, so only the names compared refuse them.
	srv.CNAME("wrong.bigcorp.test", "other."+zone)
	srv.A("other." + zone)
	srv.CNAME("lookalike.bigcorp.test", target+".evil.test")
	srv.A(target + ".evil.test")
	srv.CNAME("elsewhere.bigcorp.test", "acme.example.org")
	srv.A("acme.example.org")
	srv.A("address.bigcorp.test")
	srv.CNAME("dangling.bigcorp.test", "gone.example.net")
	srv.Fail("servfail.bigcorp.test", dns.RcodeServerFailure)
	srv.CNAME("servfail-hop.bigcorp.test", "broken.cdn.test")
	srv.Fail("broken.cdn.test", dns.RcodeServerFailure)
	srv.Hang("slow.bigcorp.test")
	srv.CNAME("loop1.bigcorp.test", "loop2.bigcorp.test")
	srv.CNAME("loop2.bigcorp.test", "loop1.bigcorp.test")
	r := NewDNSResolver([]string{srv.Addr})
	for _, tc := range []struct {
		host, target string
		want         bool
		transient    bool
	}{
		{"direct.bigcorp.test", target, true, false},
		{"DIRECT.bigcorp.test.", target + ".", true, false},
		{"chain.bigcorp.test", target, true, false},
		{"lb-target.bigcorp.test", "lbportal." + zone, true, false},
		{"lb-target.bigcorp.test", "lb.example.net", false, false},
		{"developer.victim.test", "victim." + zone, true, false},
		{"developer.victim.test", "ingress." + zone, false, false},
		{"via-rival.bigcorp.test", target, false, false},
		{target, target, false, false}, // the default domain itself is no alias
		{"wrong.bigcorp.test", target, false, false},
		{"lookalike.bigcorp.test", target, false, false},
		{"elsewhere.bigcorp.test", target, false, false},
		{"address.bigcorp.test", target, false, false},
		{"nxdomain.bigcorp.test", target, false, false},
		{"dangling.bigcorp.test", target, false, false},
		{"loop1.bigcorp.test", target, false, false},
		{"servfail.bigcorp.test", target, false, true},
		{"servfail-hop.bigcorp.test", target, false, true},
		{"slow.bigcorp.test", target, false, true},
	} {
		t.Run(tc.host+">"+tc.target, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
			defer cancel()
			got, err := LeadsTo(ctx, r, tc.host, tc.target, zone)
			if got != tc.want || (err != nil) != tc.transient {
				t.Errorf("LeadsTo(%s, %s) = %v, %v; want %v, transient error %v", tc.host, tc.target, got, err, tc.want, tc.transient)
			}
		})
	}
}

// TestDNSResolverAsksOneHop: the resolver gives a name's own CNAME, not
// the end of its chain, tells NXDOMAIN from a failure, and asks the next
// server when one fails.
func TestDNSResolverAsksOneHop(t *testing.T) {
	t.Parallel()
	srv, failing := dnstest.Start(t), dnstest.Start(t)
	srv.CNAME("chain.bigcorp.test", "hop1.bigcorp.test")
	srv.CNAME("hop1.bigcorp.test", "end.example.net")
	srv.A("end.example.net")
	srv.Fail("servfail.bigcorp.test", dns.RcodeServerFailure)
	for _, h := range []string{"chain.bigcorp.test", "end.example.net", "nxdomain.bigcorp.test", "servfail.bigcorp.test"} {
		failing.Fail(h, dns.RcodeServerFailure)
	}
	r := NewDNSResolver([]string{failing.Addr, srv.Addr})
	for _, tc := range []struct {
		host, want string
		err        error
	}{
		{"chain.bigcorp.test", "hop1.bigcorp.test.", nil},
		{"CHAIN.bigcorp.test.", "hop1.bigcorp.test.", nil},
		{"end.example.net", "", nil},
		{"nxdomain.bigcorp.test", "", ErrNoSuchHost},
	} {
		got, err := r.CNAME(t.Context(), tc.host)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("CNAME(%s) = %q, %v; want %q, %v", tc.host, got, err, tc.want, tc.err)
		}
	}
	if _, err := r.CNAME(t.Context(), "servfail.bigcorp.test"); err == nil || errors.Is(err, ErrNoSuchHost) {
		t.Errorf("SERVFAIL: %v", err)
	}
}

// chainResolver answers from a map, like a resolver that gives one hop.
type chainResolver map[string]string

func (c chainResolver) CNAME(_ context.Context, host string) (string, error) {
	if v, ok := c[host]; ok {
		return v, nil
	}
	return "", ErrNoSuchHost
}

func TestLeadsToBoundsTheChain(t *testing.T) {
	t.Parallel()
	const zone = "portals.test"
	end := "end." + zone
	r := chainResolver{end: ""}
	// h0 > h1 > ... > h8 > end: from h1 a chain of MaxHops aliases, from
	// h0 one more.
	for i := range MaxHops + 1 {
		next := "h" + strconv.Itoa(i+1) + ".test"
		if i == MaxHops {
			next = end
		}
		r["h"+strconv.Itoa(i)+".test"] = next
	}
	if ok, err := LeadsTo(t.Context(), r, "h1.test", end, zone); !ok || err != nil {
		t.Errorf("chain of %d: %v %v", MaxHops, ok, err)
	}
	if ok, err := LeadsTo(t.Context(), r, "h0.test", end, zone); ok || err != nil {
		t.Errorf("chain of %d: %v %v", MaxHops+1, ok, err)
	}
}

func TestServerIndex(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n           uint32
		count, want int
	}{
		{0, 3, 0}, {4, 3, 1}, {1<<31 - 1, 2, 1}, {1 << 31, 3, 2}, {1<<32 - 1, 3, 0}, {1<<32 - 1, 2, 1},
	} {
		if got := serverIndex(tc.n, tc.count); got != tc.want {
			t.Errorf("serverIndex(%d, %d) = %d, want %d", tc.n, tc.count, got, tc.want)
		}
	}
}
