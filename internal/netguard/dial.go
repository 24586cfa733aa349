package netguard

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// DialControl is a net.Dialer Control function that refuses every address
// Check refuses. It runs after DNS resolution, on the very address about
// to be connected, so a name that resolves to an internal address is
// refused even when it resolved to a public one a moment before.
func DialControl(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("address %s is not an address and not allowed", host)
	}
	if reason := Check(a); reason != "" {
		return fmt.Errorf("address %s is %s and not allowed", host, reason)
	}
	return nil
}
