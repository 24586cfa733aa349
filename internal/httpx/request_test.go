package httpx

import (
	"net/http"
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
