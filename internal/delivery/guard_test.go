package delivery

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
)

// TestDialControl: the check on the very address being dialled, as the
// dialer passes it, refuses every special-purpose range however it is
// written (the full table is tested in package netguard).
func TestDialControl(t *testing.T) {
	t.Parallel()
	tests := []struct {
		address string
		want    string // substring of the error; "" when allowed
	}{
		{"127.0.0.1:443", "is in Loopback (127.0.0.0/8)"},
		{"[::1]:443", "Loopback Address"},
		{"[::ffff:127.0.0.1]:443", "IPv4-mapped form of 127.0.0.1"},
		{"[::ffff:169.254.169.254]:443", "Link Local"},
		{"[::127.0.0.1]:443", "IPv4-compatible"},
		{"[2002:7f00:1::1]:443", "6to4"},
		{"[2002:808:808::1]:443", "6to4"},
		{"[64:ff9b::7f00:1]:443", "NAT64 form of 127.0.0.1"},
		{"[64:ff9b:1::a00:1]:443", "local-use"},
		{"[2001::5efe:7f00:1]:443", "TEREDO"},
		{"0.0.0.0:443", "This host"},
		{"0.1.2.3:443", "This network"},
		{"10.1.2.3:443", "Private-Use"},
		{"100.64.0.1:443", "Shared Address Space"},
		{"169.254.169.254:443", "Link Local"},
		{"172.16.0.1:443", "Private-Use"},
		{"192.0.0.1:443", "192.0.0."},
		{"192.0.2.1:443", "TEST-NET-1"},
		{"192.168.1.1:443", "Private-Use"},
		{"198.18.0.1:443", "Benchmarking"},
		{"198.51.100.1:443", "TEST-NET-2"},
		{"203.0.113.7:443", "TEST-NET-3"},
		{"224.0.0.1:443", "Multicast"},
		{"240.0.0.1:443", "Reserved"},
		{"255.255.255.255:443", "Limited Broadcast"},
		{"[ff02::1]:443", "Multicast"},
		{"[fd00::1]:443", "Unique-Local"},
		{"[fe80::1%eth0]:443", "zone"},
		{"[fe80::1]:443", "Link-Local Unicast"},
		{"[2001:db8::1]:443", "Documentation"},
		{"[100::1]:443", "Discard-Only"},
		{"[::]:443", "Unspecified"},
		{"siem.example.com:443", "not an address"},
		{"8.8.8.8:443", ""},
		{"[2001:4860:4860::8888]:443", ""},
		{"[64:ff9b::808:808]:443", ""},
		{"[::ffff:8.8.8.8]:443", ""},
	}
	for _, tc := range tests {
		err := dialControl("tcp", tc.address, nil)
		var fe *errForbiddenAddr
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.address, err)
		case tc.want != "" && (!errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want a refusal about %q", tc.address, err, tc.want)
		}
	}
}

// An IPv4-mapped loopback literal in an endpoint is refused at dial time,
// before any connection: the request never reaches the listener.
func TestDialGuardRefusesMappedLoopback(t *testing.T) {
	t.Parallel()
	dst := newRecorder()
	srv := httptest.NewUnstartedServer(dst)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	m, err := New(Config{}, Deps{Store: newStore(t), Signer: testSigner(), Clock: clock.NewFake(time.Now())})
	if err != nil {
		t.Fatal(err)
	}
	autoAdvance(t, m.clock.(*clock.Fake))
	endpoint := strings.Replace(srv.URL, "127.0.0.1", "[::ffff:127.0.0.1]", 1)
	entry := []store.StoredEntry{{Seq: 1, Entry: entries(hook{org: "o"}, 1, 1)[0].Entry}}
	err = m.SendBatch(context.Background(), store.Destination{Endpoint: endpoint, LogFormat: audit.FormatCEF, SkipSSLVerification: true}, entry)
	var se *SendError
	// Go's dialer unmaps the address before the check sees it; either way
	// it is judged as the loopback address it reaches.
	if !asSendError(err, &se) || !strings.Contains(se.Message, "Loopback (127.0.0.0/8) and not allowed") {
		t.Fatalf("got %v, want a refusal of the mapped loopback address", err)
	}
	if len(dst.arrived) != 0 {
		t.Fatal("the destination was reached")
	}
}

func TestValidateEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		endpoint string
		insecure bool
		wantErr  string
	}{
		{"https://siem.example.com/intake", false, ""},
		{"HTTPS://siem.example.com:8443/intake?token=x", false, ""},
		{"http://siem.example.com/intake", false, "https"},
		{"http://siem.example.com/intake", true, ""},
		{"https://127.0.0.1/intake", false, "Loopback"},
		{"https://[::1]:8443/", false, "Loopback"},
		{"https://10.0.0.5/", false, "Private-Use"},
		{"https://0x7f000001/", false, "is 127.0.0.1 written another way"},
		{"https://127.1/", false, "is 127.0.0.1 written another way"},
		{"https://[::ffff:127.0.0.1]/", false, "IPv4-mapped"},
		{"https://203.0.113.7/", false, "TEST-NET-3"},
		{"http://0x7f000001/", true, ""},
		{"http://127.0.0.1:9000/", true, ""},
		{"ftp://siem.example.com/", true, "https"},
		{"/relative", false, "absolute"},
		{"https://user:pw@siem.example.com/", false, "credentials"},
		{"://", false, "absolute"},
	}
	for _, tc := range tests {
		err := ValidateEndpoint(tc.endpoint, tc.insecure)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.endpoint, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: %v, want an error about %s", tc.endpoint, err, tc.wantErr)
		}
	}
}

// Without InsecureDestinations, loopback is refused at dial time even over
// https, and http is refused before any dial; both are recorded as the
// webhook status.
func TestSSRFGuard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		tls         bool
		wantMessage string
	}{
		{"loopback over https", true, "destination address 127.0.0.1 is in Loopback (127.0.0.0/8) and not allowed"},
		{"plain http", false, "endpoint must use https"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := newStore(t)
			dst := newRecorder()
			srv := httptest.NewUnstartedServer(dst)
			srv.Config.ErrorLog = log.New(io.Discard, "", 0)
			if tc.tls {
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			h := addWebhook(t, st, srv.URL, audit.FormatCEF)
			d := h.dest
			d.SkipSSLVerification = true
			if err := st.UpdateDestination(context.Background(), d); err != nil {
				t.Fatal(err)
			}
			clk := clock.NewFake(time.Now())
			autoAdvance(t, clk)
			m, err := New(Config{}, Deps{Store: st, Signer: testSigner(), Clock: clk, Registerer: prometheus.NewRegistry()})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- m.Run(ctx) }()
			defer func() { cancel(); <-done }()
			waitRunning(t, m)
			record(t, m, entries(h, 1, 1))
			s := waitState(t, st, h, func(s store.WebhookState) bool { return s.Cursor == 1 })
			if s.Status != store.StatusInactive || s.LastResponseCode != 0 || s.LastResponseMessage != tc.wantMessage {
				t.Fatalf("state %+v", s)
			}
			if len(dst.arrived) != 0 {
				t.Fatal("the destination was reached")
			}
		})
	}
}

// TLS is verified unless the destination says skip_ssl_verification.
func TestTLSVerification(t *testing.T) {
	t.Parallel()
	dst := newRecorder()
	srv := httptest.NewUnstartedServer(dst)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	defer srv.Close()
	st := newStore(t)
	m, err := New(Config{InsecureDestinations: true}, Deps{Store: st, Signer: testSigner(), Clock: clock.NewFake(time.Now())})
	if err != nil {
		t.Fatal(err)
	}
	entry := []store.StoredEntry{{Seq: 1, Entry: entries(hook{org: "o"}, 1, 1)[0].Entry}}
	dest := store.Destination{Endpoint: srv.URL, LogFormat: audit.FormatCEF, SkipSSLVerification: true}
	if err := m.SendBatch(context.Background(), dest, entry); err != nil {
		t.Fatalf("skip_ssl_verification: %v", err)
	}
	dst.next(t)

	dest.SkipSSLVerification = false
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clk := m.clock.(*clock.Fake)
	autoAdvance(t, clk)
	err = m.SendBatch(ctx, dest, entry)
	var se *SendError
	if !asSendError(err, &se) || se.Status != 0 || !strings.Contains(se.Message, "certificate") {
		t.Fatalf("self-signed certificate accepted or wrong error: %v", err)
	}
	if len(dst.arrived) != 0 {
		t.Fatal("the request went through")
	}
}

// Endpoints come from API callers: any string gets an answer, and what is
// accepted without InsecureDestinations is https with a host.
func FuzzValidateEndpoint(f *testing.F) {
	for _, s := range []string{"https://siem.example.com/x", "http://127.0.0.1/", "https://[::1]/", "https://%zz", "https://10.0.0.1:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, endpoint string) {
		if ValidateEndpoint(endpoint, false) != nil {
			return
		}
		if !strings.HasPrefix(strings.ToLower(endpoint), "https://") {
			t.Fatalf("accepted %q", endpoint)
		}
	})
}
