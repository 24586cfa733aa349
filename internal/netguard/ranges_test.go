package netguard

import (
	"net/netip"
	"strings"
	"testing"
)

// TestCheck: one address in (and at the edges of) every refused range,
// IPv4 embedded in IPv6 every way, and public neighbours that stay allowed.
func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		want string // a substring of the reason; "" when allowed
	}{
		{"0.0.0.0", `"This host on this network"`},
		{"0.1.2.3", `"This network" (0.0.0.0/8)`},
		{"10.1.2.3", "Private-Use (10.0.0.0/8)"},
		{"100.64.0.0", "Shared Address Space"},
		{"100.127.255.255", "Shared Address Space"},
		{"100.63.255.255", ""},
		{"100.128.0.0", ""},
		{"127.0.0.1", "Loopback (127.0.0.0/8)"},
		{"127.255.255.254", "Loopback"},
		{"169.254.169.254", "Link Local"},
		{"172.16.0.1", "Private-Use (172.16.0.0/12)"},
		{"172.31.255.255", "Private-Use"},
		{"172.32.0.0", ""},
		{"192.0.0.1", "IPv4 Service Continuity Prefix"},
		{"192.0.0.8", "IPv4 dummy address"},
		{"192.0.0.9", "Port Control Protocol Anycast"},
		{"192.0.0.10", "Traversal Using Relays around NAT Anycast"},
		{"192.0.0.170", "NAT64/DNS64 Discovery"},
		{"192.0.0.171", "NAT64/DNS64 Discovery"},
		{"192.0.0.200", "IETF Protocol Assignments (192.0.0.0/24)"},
		{"192.0.1.1", ""},
		{"192.0.2.7", "TEST-NET-1"},
		{"192.31.196.1", "AS112-v4"},
		{"192.52.193.1", "AMT"},
		{"192.88.99.1", "6to4 Relay Anycast"},
		{"192.168.1.1", "Private-Use (192.168.0.0/16)"},
		{"192.175.48.1", "Direct Delegation AS112"},
		{"198.18.0.1", "Benchmarking"},
		{"198.19.255.255", "Benchmarking"},
		{"198.17.255.255", ""},
		{"198.20.0.0", ""},
		{"198.51.100.1", "TEST-NET-2"},
		{"203.0.113.7", "TEST-NET-3"},
		{"224.0.0.1", "Multicast (224.0.0.0/4)"},
		{"239.255.255.255", "Multicast"},
		{"240.0.0.1", "Reserved (240.0.0.0/4)"},
		{"255.255.255.254", "Reserved"},
		{"255.255.255.255", "Limited Broadcast"},
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"223.255.255.255", ""},

		{"::1", "Loopback Address"},
		{"::", "Unspecified Address"},
		{"::ffff:127.0.0.1", "IPv4-mapped form of 127.0.0.1, in Loopback"},
		{"::ffff:10.0.0.1", "IPv4-mapped form of 10.0.0.1, in Private-Use"},
		{"::ffff:169.254.169.254", "Link Local"},
		{"::ffff:8.8.8.8", ""},
		{"::127.0.0.1", "IPv4-compatible"},
		{"::8.8.8.8", "IPv4-compatible"},
		{"64:ff9b::7f00:1", "NAT64 form of 127.0.0.1, in Loopback"},
		{"64:ff9b::10.0.0.1", "NAT64 form of 10.0.0.1"},
		{"64:ff9b::c000:2a1", "NAT64 form of 192.0.2.161, in Documentation"},
		{"64:ff9b::808:808", ""},
		{"64:ff9b:1::a00:1", "local-use"},
		{"64:ff9b:1:ffff::1", "local-use"},
		{"100::1", "Discard-Only"},
		{"100:0:0:1::1", "Dummy IPv6 Prefix"},
		{"2001::1", "TEREDO"},
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", "TEREDO"},
		{"2001:1::1", "Port Control Protocol Anycast"},
		{"2001:1::3", "DNS-SD"},
		{"2001:2::1", "Benchmarking"},
		{"2001:3::1", "AMT"},
		{"2001:4:112::1", "AS112-v6"},
		{"2001:10::1", "ORCHID"},
		{"2001:20::1", "ORCHIDv2"},
		{"2001:30::1", "DETs"},
		{"2001:100::1", "IETF Protocol Assignments (2001::/23)"},
		{"2001:db8::1", "Documentation (2001:db8::/32)"},
		{"2002:7f00:1::1", "6to4"},
		{"2002:808:808::1", "6to4"},
		{"2620:4f:8000::1", "Direct Delegation AS112"},
		{"3fff::1", "Documentation (3fff::/20)"},
		{"5f00::1", "SRv6"},
		{"fc00::1", "Unique-Local"},
		{"fd12:3456::1", "Unique-Local"},
		{"fe80::1", "Link-Local Unicast"},
		{"febf::1", "Link-Local Unicast"},
		{"fec0::1", "Reserved by IETF"},
		{"ff02::1", "Multicast (ff00::/8)"},
		{"ff0e::1", "Multicast"},
		{"4000::1", "Reserved by IETF"},
		{"::2:3:4:5", "Reserved by IETF"},
		{"2001:4860:4860::8888", ""},
		{"2001:200::1", ""},
		{"2003::1", ""},
		{"2a00:1450::1", ""},
		{"fe80::1%eth0", "zone"},
		{"2001:4860::1%eth0", "zone"},
	}
	for _, tc := range tests {
		got := Check(netip.MustParseAddr(tc.addr))
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.addr, got, tc.want)
		}
	}
	if got := Check(netip.Addr{}); got == "" {
		t.Error("the zero Addr is allowed")
	}
}

// TestEveryPrefixRefused: the first and last address of every table entry
// is refused, so no entry is shadowed by an IPv4-in-IPv6 rule that lets
// its addresses through (except those two, judged by their IPv4 address).
func TestEveryPrefixRefused(t *testing.T) {
	t.Parallel()
	for _, s := range specials {
		if s.prefix == nat64 || s.prefix.Addr().Is4In6() {
			continue
		}
		first := s.prefix.Masked().Addr()
		last := first
		for b := s.prefix.Bits(); b < first.BitLen(); b++ {
			last = setBit(last, b)
		}
		for _, a := range []netip.Addr{first, last} {
			if Check(a) == "" {
				t.Errorf("%s in %s (%s) is allowed", a, s.prefix, s.name)
			}
		}
	}
}

func setBit(a netip.Addr, bit int) netip.Addr {
	b := a.AsSlice()
	b[bit/8] |= 0x80 >> (bit % 8)
	r, _ := netip.AddrFromSlice(b)
	return r
}
