package netguard

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestParseNumericHost(t *testing.T) {
	t.Parallel()
	tests := []struct{ host, want string }{ // want "" when not numeric
		{"0x7f000001", "127.0.0.1"},
		{"0X7F000001", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"2130706433", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"00000177.0.0.1", "127.0.0.1"},
		{"0x7f.0.0.1", "127.0.0.1"},
		{"0x000007f.1", "127.0.0.1"},
		{"0X7F.1", "127.0.0.1"},
		{"127.0.0.1", "127.0.0.1"},
		{"127.0.0.1.", "127.0.0.1"},
		{"0", "0.0.0.0"},
		{"0x", "0.0.0.0"}, // WHATWG reads it as 0; inet_aton refuses it
		{"169.254.43518", "169.254.169.254"},
		{"0xa9fea9fe", "169.254.169.254"},
		{"4294967295", "255.255.255.255"},
		{"1.16777215", "1.255.255.255"},
		{"1.2.65535", "1.2.255.255"},
		{"010.0.0.1", "8.0.0.1"},
		{"4294967296", ""},
		{"0x100000000", ""},
		{"99999999999999999999999", ""},
		{"256.1", ""},
		{"1.16777216", ""},
		{"1.2.65536", ""},
		{"1.2.3.256", ""},
		{"08.0.0.1", ""},
		{"0x7g.1", ""},
		{"1.2.3.4.5", ""},
		{"1..2", ""},
		{".1.2.3", ""},
		{"1.2.3.4..", ""},
		{"", ""},
		{".", ""},
		{"-1", ""},
		{"+1", ""},
		{"1_0", ""},
		{"0o17", ""},
		{"0b1", ""},
		{"１２７.0.0.1", ""},
		{"example.com", ""},
		{"127.0.0.1 ", ""},
	}
	for _, tc := range tests {
		a, ok := ParseNumericHost(tc.host)
		switch {
		case tc.want == "" && ok:
			t.Errorf("%q read as %s", tc.host, a)
		case tc.want != "" && (!ok || a != netip.MustParseAddr(tc.want)):
			t.Errorf("%q: %s %v, want %s", tc.host, a, ok, tc.want)
		}
	}
}

// TestCheckHost: the hosts an endpoint may name, as url.URL.Hostname gives
// them.
func TestCheckHost(t *testing.T) {
	t.Parallel()
	tests := []struct{ host, want string }{ // want: substring of the reason, "" when allowed
		{"siem.example.com", ""},
		{"siem.example.com.", ""},
		{"8.8.8.8", ""},
		{"2001:4860:4860::8888", ""},
		{"::ffff:8.8.8.8", ""},
		{"123.example", ""},
		{"0x7f.example", ""},
		{"127.0.0.1", "host 127.0.0.1 is in Loopback (127.0.0.0/8)"},
		{"0x7f000001", `host "0x7f000001" is 127.0.0.1 written another way, which is in Loopback (127.0.0.0/8)`},
		{"127.1", "is 127.0.0.1 written another way"},
		{"2130706433", "is 127.0.0.1 written another way"},
		{"0177.0.0.1", "is 127.0.0.1 written another way"},
		{"0x7f.0.0.1", "is 127.0.0.1 written another way"},
		{"127.0.0.1.", "is 127.0.0.1 written another way"},
		{"0xa9fea9fe", "Link Local"},
		{"0", `"This host on this network"`},
		{"010.0.0.1", "is 8.0.0.1 written another way; write it as 8.0.0.1"},
		{"134744072", "is 8.8.8.8 written another way"},
		{"::ffff:127.0.0.1", "IPv4-mapped form of 127.0.0.1"},
		{"::ffff:7f00:1", "IPv4-mapped form of 127.0.0.1"},
		{"::127.0.0.1", "IPv4-compatible"},
		{"0:0:0:0:0:0:0:1", "Loopback Address"},
		{"fe80::1%eth0", `host "fe80::1%eth0" carries an IPv6 zone`},
		{"2001:4860::1%eth0", "zone"},
		{"2002:7f00:1::1", "6to4"},
		{"64:ff9b::7f00:1", "NAT64 form of 127.0.0.1"},
		{"2001::1", "TEREDO"},
		{"siem.example.123", "ends in a number"},
		{"siem.example.0x7f", "ends in a number"},
		{"1.2.3.4.5", "ends in a number"},
		{"99999999999", "ends in a number"},
		{"1.2.3.256", "ends in a number"},
		{"08.0.0.1", "ends in a number"},
	}
	for _, tc := range tests {
		got := CheckHost(tc.host)
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("%q: %q, want %q", tc.host, got, tc.want)
		}
	}
}

var (
	refHex = regexp.MustCompile(`^0[xX][0-9a-fA-F]*$`)
	refOct = regexp.MustCompile(`^0[0-7]+$`)
	refDec = regexp.MustCompile(`^(0|[1-9][0-9]*)$`)
)

// refAton is a second, plainer reading of the same grammar, for the fuzz
// test to hold ParseNumericHost to.
func refAton(host string) (netip.Addr, bool) {
	parts := strings.Split(strings.TrimSuffix(host, "."), ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var vals []uint64
	for _, p := range parts {
		var n uint64
		var err error
		switch {
		case refHex.MatchString(p):
			n, err = strconv.ParseUint("0"+p[2:], 16, 64)
		case refOct.MatchString(p):
			n, err = strconv.ParseUint(p[1:], 8, 64)
		case refDec.MatchString(p):
			n, err = strconv.ParseUint(p, 10, 64)
		default:
			return netip.Addr{}, false
		}
		if err != nil {
			return netip.Addr{}, false
		}
		vals = append(vals, n)
	}
	var b [4]byte
	for i, n := range vals[:len(vals)-1] {
		if n > 255 {
			return netip.Addr{}, false
		}
		b[i] = byte(n)
	}
	last := vals[len(vals)-1]
	for i := 3; i >= len(vals)-1; i-- {
		b[i] = byte(last)
		last >>= 8
	}
	if last != 0 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(b), true
}

// FuzzParseNumericHost: any host gets an answer; the parser agrees with
// the plain reading; whatever it reads as an address is refused by
// CheckHost unless it is the canonical spelling of a public address.
func FuzzParseNumericHost(f *testing.F) {
	for _, s := range []string{"0x7f000001", "127.1", "2130706433", "0177.0.0.1", "0x7f.0.0.1", "8.8.8.8", "1.2.3.4.",
		"0x", "4294967296", "1.16777216", "::ffff:127.0.0.1", "fe80::1%eth0", "siem.example.com", "a.0x1", "09", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		a, ok := ParseNumericHost(host)
		ra, rok := refAton(host)
		if ok != rok || a != ra {
			t.Fatalf("%q: %s %v, reference %s %v", host, a, ok, ra, rok)
		}
		reason := CheckHost(host)
		if !ok {
			return
		}
		if canonical := host == a.String(); reason == "" && (!canonical || Check(a) != "") {
			t.Fatalf("%q (%s) allowed", host, a)
		}
		if b, ok := ParseNumericHost(a.String()); !ok || b != a {
			t.Fatalf("%s does not read back", a)
		}
	})
}
