// Package netguard decides which IP addresses a destination may point at:
// none of the IANA special-purpose ranges (loopback, private, link-local,
// documentation, benchmarking, multicast, reserved, ...), whether written
// plainly or embedded in an IPv6 address. Delivery asks it on the resolved
// address at every dial; the API asks it, and refuses numeric host
// spellings that resolvers read as addresses, when an endpoint is stored.
package netguard

import (
	"fmt"
	"net/netip"
)

// special is one refused range, named as in the IANA registry it comes from.
type special struct {
	prefix netip.Prefix
	name   string
}

// specials is every entry of the IANA IPv4 and IPv6 Special-Purpose
// Address Registries (iana-ipv4-special-registry, iana-ipv6-special-
// registry, as of 2025), plus the multicast, reserved and deprecated
// blocks of the address-space registries. Entries the registry marks
// globally reachable (anycast services, AMT, AS112, ORCHIDv2) are refused
// too: they are infrastructure, never a SIEM. The most specific entry
// names an address, so 2001:db8::1 is "Documentation", not "IETF Protocol
// Assignments".
var specials = func() []special {
	p := netip.MustParsePrefix
	return []special{
		// IPv4 Special-Purpose Address Registry.
		{p("0.0.0.0/8"), `"This network"`},                                // RFC 791
		{p("0.0.0.0/32"), `"This host on this network"`},                  // RFC 1122
		{p("10.0.0.0/8"), "Private-Use"},                                  // RFC 1918
		{p("100.64.0.0/10"), "Shared Address Space"},                      // RFC 6598, carrier-grade NAT
		{p("127.0.0.0/8"), "Loopback"},                                    // RFC 1122
		{p("169.254.0.0/16"), "Link Local"},                               // RFC 3927, cloud metadata lives here
		{p("172.16.0.0/12"), "Private-Use"},                               // RFC 1918
		{p("192.0.0.0/24"), "IETF Protocol Assignments"},                  // RFC 6890
		{p("192.0.0.0/29"), "IPv4 Service Continuity Prefix"},             // RFC 7335
		{p("192.0.0.8/32"), "IPv4 dummy address"},                         // RFC 7600
		{p("192.0.0.9/32"), "Port Control Protocol Anycast"},              // RFC 7723
		{p("192.0.0.10/32"), "Traversal Using Relays around NAT Anycast"}, // RFC 8155
		{p("192.0.0.170/31"), "NAT64/DNS64 Discovery"},                    // RFC 8880
		{p("192.0.2.0/24"), "Documentation (TEST-NET-1)"},                 // RFC 5737
		{p("192.31.196.0/24"), "AS112-v4"},                                // RFC 7535
		{p("192.52.193.0/24"), "AMT"},                                     // RFC 7450
		{p("192.88.99.0/24"), "Deprecated (6to4 Relay Anycast)"},          // RFC 7526
		{p("192.168.0.0/16"), "Private-Use"},                              // RFC 1918
		{p("192.175.48.0/24"), "Direct Delegation AS112 Service"},         // RFC 7534
		{p("198.18.0.0/15"), "Benchmarking"},                              // RFC 2544
		{p("198.51.100.0/24"), "Documentation (TEST-NET-2)"},              // RFC 5737
		{p("203.0.113.0/24"), "Documentation (TEST-NET-3)"},               // RFC 5737
		{p("240.0.0.0/4"), "Reserved"},                                    // RFC 1112
		{p("255.255.255.255/32"), "Limited Broadcast"},                    // RFC 919, RFC 8190
		// IPv4 Address Space Registry.
		{p("224.0.0.0/4"), "Multicast"}, // RFC 5771

		// IPv6 Special-Purpose Address Registry.
		{p("::1/128"), "Loopback Address"},                                        // RFC 4291
		{p("::/128"), "Unspecified Address"},                                      // RFC 4291
		{p("::ffff:0:0/96"), "IPv4-mapped Address"},                               // RFC 4291; checked by its IPv4 address first
		{p("64:ff9b::/96"), "IPv4-IPv6 Translat."},                                // RFC 6052 NAT64; checked by its IPv4 address first
		{p("64:ff9b:1::/48"), "IPv4-IPv6 Translat. (local-use)"},                  // RFC 8215: its mapping is local, so unknowable here
		{p("100::/64"), "Discard-Only Address Block"},                             // RFC 6666
		{p("100:0:0:1::/64"), "Dummy IPv6 Prefix"},                                // RFC 9780
		{p("2001::/23"), "IETF Protocol Assignments"},                             // RFC 2928
		{p("2001::/32"), "TEREDO"},                                                // RFC 4380: tunnels to an IPv4 host
		{p("2001:1::1/128"), "Port Control Protocol Anycast"},                     // RFC 7723
		{p("2001:1::2/128"), "Traversal Using Relays around NAT Anycast"},         // RFC 8155
		{p("2001:1::3/128"), "DNS-SD Service Registration Protocol Anycast"},      // RFC 9665
		{p("2001:2::/48"), "Benchmarking"},                                        // RFC 5180
		{p("2001:3::/32"), "AMT"},                                                 // RFC 7450
		{p("2001:4:112::/48"), "AS112-v6"},                                        // RFC 7535
		{p("2001:10::/28"), "Deprecated (previously ORCHID)"},                     // RFC 4843
		{p("2001:20::/28"), "ORCHIDv2"},                                           // RFC 7343
		{p("2001:30::/28"), "Drone Remote ID Protocol Entity Tags (DETs) Prefix"}, // RFC 9374
		{p("2001:db8::/32"), "Documentation"},                                     // RFC 3849
		{p("2002::/16"), "6to4"},                                                  // RFC 3056: tunnels to an IPv4 host; relays deprecated (RFC 7526)
		{p("2620:4f:8000::/48"), "Direct Delegation AS112 Service"},               // RFC 7534
		{p("3fff::/20"), "Documentation"},                                         // RFC 9637
		{p("5f00::/16"), "Segment Routing (SRv6) SIDs"},                           // RFC 9602
		{p("fc00::/7"), "Unique-Local"},                                           // RFC 4193
		{p("fe80::/10"), "Link-Local Unicast"},                                    // RFC 4291
		// IPv6 Address Space Registry.
		{p("::/96"), "IPv4-compatible Address (deprecated)"}, // RFC 4291 2.5.5.1: embeds an IPv4 address
		{p("ff00::/8"), "Multicast"},                         // RFC 4291
	}
}()

// nat64 is the well-known NAT64 prefix (RFC 6052): its last 32 bits are
// the IPv4 host an IPv6-only network reaches through a translator.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// globalUnicast6 is the only IPv6 block IANA allocates for global unicast;
// everything else is reserved by the IETF and refused by default.
var globalUnicast6 = netip.MustParsePrefix("2000::/3")

// Check returns why a may not be a destination, "" when it may: the name
// and prefix of the refused range it falls in, worded to follow "is" ("in
// Loopback (127.0.0.0/8)"). An IPv4-mapped or NAT64
// (64:ff9b::/96) address is judged by the IPv4 address it carries, since
// that is the host it reaches; every other range that embeds an IPv4
// address (IPv4-compatible, 6to4, Teredo, local-use NAT64) is refused
// whole. An address with an IPv6 zone is refused: a zone only makes sense
// for link-local scopes.
func Check(a netip.Addr) string {
	if !a.IsValid() {
		return "not an IP address"
	}
	if a.Zone() != "" {
		return "an address with an IPv6 zone"
	}
	if a.Is4In6() {
		if r := Check(a.Unmap()); r != "" {
			return fmt.Sprintf("the IPv4-mapped form of %s, %s", a.Unmap(), r)
		}
		return ""
	}
	if nat64.Contains(a) {
		b := a.As16()
		v4 := netip.AddrFrom4([4]byte(b[12:]))
		if r := Check(v4); r != "" {
			return fmt.Sprintf("the NAT64 form of %s, %s", v4, r)
		}
		return ""
	}
	best := -1
	for i, s := range specials {
		if s.prefix.Contains(a) && (best < 0 || s.prefix.Bits() > specials[best].prefix.Bits()) {
			best = i
		}
	}
	if best >= 0 {
		return fmt.Sprintf("in %s (%s)", specials[best].name, specials[best].prefix)
	}
	if a.Is6() && !globalUnicast6.Contains(a) {
		return "in Reserved by IETF (outside 2000::/3)"
	}
	return ""
}
