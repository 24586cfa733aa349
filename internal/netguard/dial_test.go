package netguard

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

func TestDialControl(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr, want string // want "" when allowed
	}{
		{"127.0.0.1:443", "not allowed"},
		{"[::1]:443", "not allowed"},
		{"10.1.2.3:443", "not allowed"},
		{"169.254.169.254:80", "not allowed"},
		{"[::ffff:127.0.0.1]:443", "not allowed"},
		{"8.8.8.8:443", ""},
		{"[2001:4860:4860::8888]:443", ""},
		{"name:443", "not an address"},
		{"no-port", "missing port"},
	} {
		err := DialControl("tcp", tc.addr, nil)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("DialControl(%q) = %v, want %q", tc.addr, err, tc.want)
		}
	}
	// As a dialer's Control, it stops a connection to a listening loopback
	// port before it is made.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	d := net.Dialer{Control: DialControl, Timeout: 5 * time.Second}
	if c, err := d.DialContext(context.Background(), "tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Fatal("dialled a loopback listener through the guard")
	}
}
