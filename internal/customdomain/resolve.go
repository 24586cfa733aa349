package customdomain

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
)

// Resolver asks DNS about one name.
type Resolver interface {
	// CNAME returns the name host is an alias of (the target of its CNAME,
	// or the canonical name further down its chain: the standard
	// library's resolver gives either, whichever of its queries is
	// answered first), or host itself when it is no alias. A name that
	// does not exist is an error.
	CNAME(ctx context.Context, host string) (string, error)
}

// MaxHops bounds the CNAME chain followed from a custom domain.
const MaxHops = 8

// canonical is a host name as compared here: lower case, no final dot.
func canonical(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

// ErrChainTooLong says a CNAME chain went on past MaxHops.
var ErrChainTooLong = errors.New("CNAME chain longer than " + fmt.Sprint(MaxHops))

// LeadsTo reports whether host is an alias of target: a CNAME of it,
// directly or through a chain of at most MaxHops aliases, target being the
// chain's canonical end (the name that has the addresses). The end is
// what every resolver reports the same way; a target that is itself an
// alias (of a load balancer, say) is seen by some queries and not by
// others, and a check must not depend on which is answered first. A lookup
// error is returned as is: it says nothing either way.
func LeadsTo(ctx context.Context, r Resolver, host, target string) (bool, error) {
	name, target := canonical(host), canonical(target)
	for range MaxHops + 1 {
		next, err := r.CNAME(ctx, name)
		if err != nil {
			return false, err
		}
		next = canonical(next)
		if next == name || next == "" {
			// The end of the chain; an alias no more.
			return name == target && name != canonical(host), nil
		}
		name = next
	}
	return false, ErrChainTooLong
}

// NetResolver is a Resolver over the standard library's DNS client (its
// pure Go resolver, which gives each CNAME of a chain in turn), asking
// the system's name servers or the given ones.
type NetResolver struct{ r *net.Resolver }

// NewNetResolver returns a resolver asking servers (host:port, tried in
// turn on each new query) or, with none, the system's name servers.
func NewNetResolver(servers []string) NetResolver {
	r := &net.Resolver{PreferGo: true}
	if len(servers) > 0 {
		var next atomic.Uint32
		var d net.Dialer
		r.Dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, servers[int(next.Add(1)-1)%len(servers)])
		}
	}
	return NetResolver{r: r}
}

// CNAME implements Resolver. The name is asked as an absolute one, so no
// search domain of the host is appended to it.
func (n NetResolver) CNAME(ctx context.Context, host string) (string, error) {
	return n.r.LookupCNAME(ctx, canonical(host)+".")
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
