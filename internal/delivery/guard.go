package delivery

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"github.com/sigtrail/sigtrail/internal/netguard"
)

// ValidateEndpoint checks a destination endpoint before it is stored: an
// absolute https URL with a host (http too when insecure). The address it
// names is checked again at every dial, since DNS can change its answer.
func ValidateEndpoint(endpoint string, insecure bool) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("endpoint must be an absolute URL with a host")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !insecure {
			return fmt.Errorf("endpoint must use https")
		}
	default:
		return fmt.Errorf("endpoint must use https")
	}
	if u.User != nil {
		return fmt.Errorf("endpoint must not carry credentials; use authorization")
	}
	if insecure {
		return nil
	}
	// An address, in any spelling, is refused now rather than at the first
	// delivery; names are judged on what they resolve to at each dial.
	if reason := netguard.CheckHost(u.Hostname()); reason != "" {
		return fmt.Errorf("endpoint %s", reason)
	}
	return nil
}

// forbiddenAddr says why a destination may not be dialled, "" when it may:
// every IANA special-purpose range, IPv4 embedded in IPv6 included (the
// table and its sources are in package netguard).
func forbiddenAddr(a netip.Addr) string { return netguard.Check(a) }

// errForbiddenAddr is the dial error for a refused address.
type errForbiddenAddr struct {
	addr, reason string
}

func (e *errForbiddenAddr) Error() string {
	return fmt.Sprintf("destination address %s is %s and not allowed", e.addr, e.reason)
}

// dialControl runs after DNS resolution, on the very address about to be
// connected, so a name that resolves to an internal address is refused
// even when it resolved to a public one a moment before.
func dialControl(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return &errForbiddenAddr{addr: host, reason: "not an address"}
	}
	if reason := forbiddenAddr(a); reason != "" {
		return &errForbiddenAddr{addr: host, reason: reason}
	}
	return nil
}
