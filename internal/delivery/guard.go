package delivery

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
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
	// A literal address is refused now rather than at the first delivery.
	if a, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil {
		if reason := forbiddenAddr(a); reason != "" {
			return fmt.Errorf("endpoint address is %s", reason)
		}
	}
	return nil
}

// Ranges that reach no public destination beyond what netip classifies.
// Functions rather than package variables: nothing here is mutable state.
func nat64() netip.Prefix           { return netip.MustParsePrefix("64:ff9b::/96") }  // embeds an IPv4 address
func sharedAddrSpace() netip.Prefix { return netip.MustParsePrefix("100.64.0.0/10") } // carrier-grade NAT
func thisNetwork() netip.Prefix     { return netip.MustParsePrefix("0.0.0.0/8") }

// forbiddenAddr says why a destination may not be dialled, "" when it may.
func forbiddenAddr(a netip.Addr) string {
	a = a.Unmap()
	if a.Is6() && nat64().Contains(a) {
		b := a.As16()
		a = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	switch {
	case !a.IsValid():
		return "not an address"
	case a.IsLoopback():
		return "loopback"
	case a.IsUnspecified() || thisNetwork().Contains(a):
		return "unspecified"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case a.IsPrivate() || sharedAddrSpace().Contains(a):
		return "private"
	case a.IsMulticast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "multicast or broadcast"
	}
	return ""
}

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
