package delivery

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
)

func TestForbiddenAddr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		want string
	}{
		{"127.0.0.1", "loopback"},
		{"127.9.9.9", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"10.1.2.3", "private"},
		{"172.16.0.1", "private"},
		{"192.168.1.1", "private"},
		{"100.64.0.1", "private"},
		{"fd00::1", "private"},
		{"169.254.169.254", "link-local"},
		{"fe80::1", "link-local"},
		{"224.0.0.1", "multicast or broadcast"},
		{"ff02::1", "multicast or broadcast"},
		{"255.255.255.255", "multicast or broadcast"},
		{"0.0.0.0", "unspecified"},
		{"0.1.2.3", "unspecified"},
		{"::", "unspecified"},
		{"64:ff9b::10.0.0.1", "private"},
		{"64:ff9b::7f00:1", "loopback"},
		{"203.0.113.7", ""},
		{"8.8.8.8", ""},
		{"2001:4860:4860::8888", ""},
		{"64:ff9b::808:808", ""},
	}
	for _, tc := range tests {
		if got := forbiddenAddr(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.addr, got, tc.want)
		}
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
		{"https://127.0.0.1/intake", false, "loopback"},
		{"https://[::1]:8443/", false, "loopback"},
		{"https://10.0.0.5/", false, "private"},
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
		{"loopback over https", true, "destination address 127.0.0.1 is loopback and not allowed"},
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
