package customdomain

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/sigtrail/sigtrail/internal/dnstest"
)

func TestLeadsToAgainstARealDNSServer(t *testing.T) {
	t.Parallel()
	srv := dnstest.Start(t)
	const target = "acme.portals.example.net"
	srv.A(target)
	srv.CNAME("direct.bigcorp.test", target)
	srv.CNAME("Chain.Bigcorp.Test", "hop1.bigcorp.test")
	srv.CNAME("hop1.bigcorp.test", "hop2.cdn.test")
	srv.CNAME("hop2.cdn.test", target)
	// A default domain that is itself an alias (of a load balancer) is not
	// the chain's end: the resolver reports it or not depending on which
	// query is answered first, so it never verifies (docs/operations.md).
	srv.CNAME("lb-target.bigcorp.test", "lbportal.portals.example.net")
	srv.CNAME("lbportal.portals.example.net", "lb.example.net")
	srv.A("lb.example.net")
	srv.CNAME("wrong.bigcorp.test", "rival.portals.example.net")
	srv.A("rival.portals.example.net")
	srv.A("address.bigcorp.test")
	srv.CNAME("dangling.bigcorp.test", "gone.example.net")
	srv.Fail("servfail.bigcorp.test", dns.RcodeServerFailure)
	srv.Hang("slow.bigcorp.test")
	srv.CNAME("loop1.bigcorp.test", "loop2.bigcorp.test")
	srv.CNAME("loop2.bigcorp.test", "loop1.bigcorp.test")
	r := NewNetResolver([]string{srv.Addr})
	for _, tc := range []struct {
		host, target string
		want         bool
		err          bool
	}{
		{"direct.bigcorp.test", target, true, false},
		{"DIRECT.bigcorp.test.", target + ".", true, false},
		{"chain.bigcorp.test", target, true, false},
		{"lb-target.bigcorp.test", "lbportal.portals.example.net", false, false},
		{"lb-target.bigcorp.test", "lb.example.net", true, false},
		{target, target, false, false}, // the default domain itself is no alias
		{"wrong.bigcorp.test", target, false, false},
		{"address.bigcorp.test", target, false, false},
		{"nxdomain.bigcorp.test", target, false, true},
		{"dangling.bigcorp.test", target, false, true},
		{"servfail.bigcorp.test", target, false, true},
		{"slow.bigcorp.test", target, false, true},
		{"loop1.bigcorp.test", target, false, true},
	} {
		t.Run(tc.host, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
			defer cancel()
			got, err := LeadsTo(ctx, r, tc.host, tc.target)
			if got != tc.want || (err != nil) != tc.err {
				t.Errorf("LeadsTo(%s, %s) = %v, %v; want %v, error %v", tc.host, tc.target, got, err, tc.want, tc.err)
			}
		})
	}
}

// chainResolver answers from a map, like a resolver that gives one hop.
type chainResolver map[string]string

func (c chainResolver) CNAME(_ context.Context, host string) (string, error) {
	if v, ok := c[host]; ok {
		return v, nil
	}
	return "", errors.New("no such host")
}

func TestLeadsToBoundsTheChain(t *testing.T) {
	t.Parallel()
	r := chainResolver{}
	name := "h0.test"
	for i := range MaxHops + 1 {
		next := "h" + string(rune('1'+i)) + ".test"
		r[name] = next
		name = next
	}
	r[name] = name
	// A chain of MaxHops aliases ending at the target is followed; one
	// longer is not.
	end := "h" + string(rune('0'+MaxHops+1)) + ".test"
	if ok, err := LeadsTo(t.Context(), r, "h1.test", end); !ok || err != nil {
		t.Errorf("chain of %d: %v %v", MaxHops, ok, err)
	}
	if ok, err := LeadsTo(t.Context(), r, "h0.test", end); ok || !errors.Is(err, ErrChainTooLong) {
		t.Errorf("chain of %d: %v %v", MaxHops+1, ok, err)
	}
}
