package httpx

import (
	"crypto/rand"
	"encoding/binary"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// TraceHeader carries a request's trace id back to the caller.
const TraceHeader = "X-Sigtrail-Trace-Id"

// NewTraceID returns a random 63-bit decimal trace id, the shape Kong uses.
func NewTraceID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strconv.FormatUint(binary.BigEndian.Uint64(b[:])>>1, 10)
}

// TrustedProxies is the set of peers whose X-Forwarded-For is believed.
type TrustedProxies []netip.Prefix

// ParseTrustedProxies reads a comma-separated list of addresses or CIDRs.
func ParseTrustedProxies(s string) (TrustedProxies, error) {
	var out TrustedProxies
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			a, err := netip.ParseAddr(part)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (t TrustedProxies) trusts(a netip.Addr) bool {
	for _, p := range t {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// ClientIP returns the address of the request's originator: the peer, or,
// when the peer is a trusted proxy, the right-most address of
// X-Forwarded-For that is not itself a trusted proxy.
func ClientIP(r *http.Request, trusted TrustedProxies) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	// A zone (fe80::1%eth0) names an interface of the sender's host: it says
	// nothing about the client, and its free text has no place in a log.
	peer = peer.Unmap().WithZone("")
	if !trusted.trusts(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap().WithZone("")
		if !trusted.trusts(a) {
			return a.String()
		}
	}
	return peer.String()
}
