package netguard

import (
	"fmt"
	"net/netip"
	"strings"
)

// ParseNumericHost reads host as an IPv4 address wherever inet_aton(3)
// (and so glibc's getaddrinfo) or the WHATWG URL standard would: one to
// four parts separated by dots, each decimal, octal (leading 0) or hex
// (leading 0x or 0X), the last part filling the bytes the others leave
// (127.1 is 127.0.0.1, 2130706433 and 0x7f000001 are too). One trailing
// dot and a bare "0x" (zero) are allowed, as WHATWG allows them. It
// returns false for anything else, including a value too big for its
// bytes. It says nothing about whether host is the canonical dotted-decimal
// spelling; netip.ParseAddr accepts only that one.
func ParseNumericHost(host string) (netip.Addr, bool) {
	host = strings.TrimSuffix(host, ".")
	parts := strings.Split(host, ".")
	if host == "" || len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, p := range parts {
		n, ok := parseAtonPart(p)
		if !ok {
			return netip.Addr{}, false
		}
		last := i == len(parts)-1
		limit := uint64(0xff)
		if last {
			limit = 1<<(8*(5-len(parts))) - 1 // 32, 24, 16 or 8 bits
		}
		if n > limit {
			return netip.Addr{}, false
		}
		if last {
			v |= n
		} else {
			v |= n << (8 * (3 - i))
		}
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// parseAtonPart reads one part: 0x/0X then hex digits (none meaning 0, as
// glibc and WHATWG read "0x"), 0 then octal digits, or decimal digits.
// Values past 2^32 are reported as too big rather than wrapped.
func parseAtonPart(p string) (uint64, bool) {
	base := uint64(10)
	switch {
	case p == "":
		return 0, false
	case len(p) >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'):
		base, p = 16, p[2:]
	case len(p) >= 2 && p[0] == '0':
		base, p = 8, p[1:]
	}
	var n uint64
	for i := 0; i < len(p); i++ {
		d, ok := digit(p[i])
		if !ok || d >= base {
			return 0, false
		}
		n = n*base + d
		if n > 1<<32 {
			return 0, false
		}
	}
	return n, true
}

func digit(c byte) (uint64, bool) {
	switch {
	case c >= '0' && c <= '9':
		return uint64(c - '0'), true
	case c >= 'a' && c <= 'f':
		return uint64(c-'a') + 10, true
	case c >= 'A' && c <= 'F':
		return uint64(c-'A') + 10, true
	}
	return 0, false
}

// CheckHost judges the host of a URL (brackets already removed, as
// url.URL.Hostname gives it) before an endpoint is stored. It returns ""
// for a DNS name or a canonical public address literal, and otherwise a
// reason: an address in a refused range; any other numeric spelling of an
// IPv4 address (127.1, 0x7f000001, 2130706433, 0177.0.0.1), refused
// whatever it names, because resolvers and URL parsers disagree on whether
// it is a name or an address and a check that reads it one way is
// bypassed by a client that reads it the other; a name whose last label
// is numeric, which the WHATWG URL standard reads as an address or
// rejects; and an IPv6 zone.
func CheckHost(host string) string {
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return fmt.Sprintf("host %q carries an IPv6 zone", host)
		}
		if r := Check(a); r != "" {
			return fmt.Sprintf("host %s is %s", host, r)
		}
		return ""
	}
	if a, ok := ParseNumericHost(host); ok {
		if r := Check(a); r != "" {
			return fmt.Sprintf("host %q is %s written another way, which is %s", host, a, r)
		}
		return fmt.Sprintf("host %q is %s written another way; write it as %s", host, a, a)
	}
	name := strings.TrimSuffix(host, ".")
	label := name[strings.LastIndexByte(name, '.')+1:]
	if _, numeric := parseAtonPart(label); numeric || allDigits(label) {
		return fmt.Sprintf("host %q ends in a number, which URL parsers read as an IPv4 address", host)
	}
	return ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
