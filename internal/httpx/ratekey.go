package httpx

import "net/netip"

// RateKey is the part of a client address a per-client limit counts by.
// An IPv6 host is commonly given a whole /64 and picks addresses in it at
// will (privacy addresses), so counting by address would give it 2^64
// buckets; an IPv6 client is its /64. An IPv4 client is its address. Text
// that is no address (ClientIP's fallback) is its own key.
func RateKey(client string) string {
	a, err := netip.ParseAddr(client)
	if err != nil {
		return client
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}
