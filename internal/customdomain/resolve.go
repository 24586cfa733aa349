package customdomain

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/miekg/dns"
)

// Resolver asks DNS about one name.
type Resolver interface {
	// CNAME returns the target of host's own CNAME record (one hop, not
	// the end of its chain), or "" when host exists and is no alias. A
	// name that does not exist is ErrNoSuchHost; any other error says the
	// lookup failed (a timeout, SERVFAIL, the network), not what DNS holds.
	CNAME(ctx context.Context, host string) (string, error)
}

// ErrNoSuchHost is DNS's answer that a name does not exist (NXDOMAIN).
var ErrNoSuchHost = errors.New("no such host")

// MaxHops bounds the CNAME chain followed from a custom domain.
const MaxHops = 8

// canonical is a host name as compared here: lower case, no final dot.
func canonical(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

// under reports whether name is zone or a name below it ("" is no zone).
func under(name, zone string) bool {
	return zone != "" && (name == zone || strings.HasSuffix(name, "."+zone))
}

// LeadsTo reports whether host's CNAME chain, followed one record at a
// time for at most MaxHops aliases, leads to target, target being the
// first name of the chain under zone (--portal-domain-suffix, where
// default domains are). A name under zone earlier in the chain is another
// portal's default domain (or the operator's own), and what it is an alias
// of is no matter: were only the end of the chain compared, a portal named
// after the ingress host (given *.zone CNAME ingress.zone) would take
// every name. With no zone, the chain stops at target.
//
// A false with no error is DNS's answer: no such name, no CNAME, a chain
// that ends, loops or goes on past MaxHops before zone, or that enters
// zone elsewhere. An error is a lookup that failed; it says nothing either
// way.
func LeadsTo(ctx context.Context, r Resolver, host, target, zone string) (bool, error) {
	name, target, zone := canonical(host), canonical(target), canonical(zone)
	for range MaxHops {
		next, err := r.CNAME(ctx, name)
		if errors.Is(err, ErrNoSuchHost) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		next = canonical(next)
		switch {
		case next == "" || next == name:
			return false, nil // no alias (any more) before zone
		case next == target || under(next, zone):
			return next == target, nil
		}
		name = next
	}
	return false, nil
}

// DNSResolver is a Resolver asking name servers for CNAME records, one
// name at a time, so each hop of a chain is seen (a lookup of addresses
// reports only the chain's end, and the system's resolver reads
// /etc/hosts, which says nothing about what the name's owner set up).
type DNSResolver struct {
	servers []string
	next    *atomic.Uint32
}

// NewDNSResolver returns a resolver asking servers (host:port, the next
// in turn for each new query, the others after a failure) or, with none,
// the name servers of /etc/resolv.conf, read at each query.
func NewDNSResolver(servers []string) DNSResolver {
	return DNSResolver{servers: servers, next: new(atomic.Uint32)}
}

// resolvConf is where the system's name servers are listed.
const resolvConf = "/etc/resolv.conf"

func (d DNSResolver) nameServers() ([]string, error) {
	if len(d.servers) > 0 {
		return d.servers, nil
	}
	cc, err := dns.ClientConfigFromFile(resolvConf)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range cc.Servers {
		out = append(out, net.JoinHostPort(s, cc.Port))
	}
	if len(out) == 0 {
		return nil, errors.New("no name server in " + resolvConf)
	}
	return out, nil
}

// CNAME implements Resolver. The name is asked as an absolute one, so no
// search domain is appended to it.
func (d DNSResolver) CNAME(ctx context.Context, host string) (string, error) {
	servers, err := d.nameServers()
	if err != nil {
		return "", err
	}
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(canonical(host)), dns.TypeCNAME)
	first := serverIndex(d.next.Add(1)-1, len(servers))
	for i := range servers {
		var a *dns.Msg
		a, err = exchange(ctx, q, servers[(first+i)%len(servers)])
		if err != nil {
			continue
		}
		switch a.Rcode {
		case dns.RcodeSuccess:
			for _, rr := range a.Answer {
				if c, ok := rr.(*dns.CNAME); ok && canonical(c.Hdr.Name) == canonical(host) {
					return c.Target, nil
				}
			}
			return "", nil
		case dns.RcodeNameError:
			return "", ErrNoSuchHost
		}
		err = fmt.Errorf("DNS answered %s", dns.RcodeToString[a.Rcode])
	}
	return "", err
}

// serverIndex is the server of query number n among count, in turn. The
// arithmetic is unsigned: int(n) is negative past 2^31 where int has 32
// bits.
func serverIndex(n uint32, count int) int { return int(n % uint32(count)) }

// exchange asks server q over UDP, and over TCP when the answer did not fit.
func exchange(ctx context.Context, q *dns.Msg, server string) (*dns.Msg, error) {
	a, _, err := (&dns.Client{}).ExchangeContext(ctx, q, server)
	if err == nil && a.Truncated {
		a, _, err = (&dns.Client{Net: "tcp"}).ExchangeContext(ctx, q, server)
	}
	return a, err
}

// ParseServers reads the --custom-domain-dns-servers list: addresses
// separated by commas, each an IP address with an optional port (53 by
// default). Empty means the system's name servers.
func ParseServers(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		host, port, err := net.SplitHostPort(f)
		if err != nil {
			host, port = strings.Trim(f, "[]"), "53"
		}
		if n, err := strconv.Atoi(port); net.ParseIP(host) == nil || err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("DNS server %q: want an IP address with an optional port", f)
		}
		out = append(out, net.JoinHostPort(host, port))
	}
	return out, nil
}
