package httpx

import (
	"net/http"
	"net/netip"
	"strconv"
	"testing"
)

func TestClientIP(t *testing.T) {
	t.Parallel()
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		remote, xff string
		want        string
	}{
		{"203.0.113.5:1234", "", "203.0.113.5"},
		{"203.0.113.5:1234", "198.51.100.1", "203.0.113.5"}, // untrusted peer: header ignored
		{"10.1.2.3:80", "198.51.100.1", "198.51.100.1"},
		{"10.1.2.3:80", "6.6.6.6, 198.51.100.1, 10.9.9.9", "198.51.100.1"}, // spoofed left-most entry ignored
		{"192.0.2.1:80", "not-an-ip", "192.0.2.1"},
		{"[::ffff:10.1.2.3]:80", "2001:db8::1", "2001:db8::1"},
		{"10.1.2.3:80", "", "10.1.2.3"},
	} {
		r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := ClientIP(r, trusted); got != tc.want {
			t.Errorf("ClientIP(%s, %q) = %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
	if _, err := ParseTrustedProxies("10.0.0.0/33"); err == nil {
		t.Error("bad CIDR accepted")
	}
	if _, err := ParseTrustedProxies("example.com"); err == nil {
		t.Error("host name accepted")
	}
}

func TestNewTraceID(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		id := NewTraceID()
		n, err := strconv.ParseUint(id, 10, 64)
		if err != nil || n >= 1<<63 || seen[id] {
			t.Fatalf("trace id %q", id)
		}
		seen[id] = true
	}
}

// FuzzClientIP: X-Forwarded-For is whatever a client wrote. The answer is
// always the peer, or an address (without a zone) named in the header
// when the peer is a trusted proxy; never a trusted proxy from the header.
func FuzzClientIP(f *testing.F) {
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 2001:db8::/32")
	if err != nil {
		f.Fatal(err)
	}
	f.Add("10.1.2.3:80", "6.6.6.6, 198.51.100.1, 10.9.9.9")
	f.Add("10.1.2.3:80", "fe80::1%eth0 x=y")
	f.Add("10.1.2.3:80", "fe80::1%a=b|c")
	f.Add("203.0.113.5:1234", "198.51.100.1")
	f.Add("[2001:db8::1]:443", ",,, ::ffff:10.0.0.1")
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := &http.Request{RemoteAddr: remote, Header: http.Header{"X-Forwarded-For": {xff}}}
		got := ClientIP(r, trusted)
		peer := ClientIP(&http.Request{RemoteAddr: remote, Header: http.Header{}}, trusted)
		if got == peer {
			return
		}
		a, err := netip.ParseAddr(got)
		if err != nil || a.Zone() != "" || trusted.trusts(a) {
			t.Fatalf("ClientIP(%q, %q) = %q", remote, xff, got)
		}
		if p, err := netip.ParseAddr(peer); err != nil || !trusted.trusts(p) {
			t.Fatalf("header believed from untrusted peer %q: %q", remote, got)
		}
	})
}
