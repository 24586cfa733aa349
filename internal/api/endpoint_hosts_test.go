package api

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/sigtrail/sigtrail/internal/apperr"
)

// hostileEndpoints are hosts that name a refused address, written the ways
// URL parsers and resolvers read as an address, with the reason's gist.
var hostileEndpoints = []struct{ endpoint, reason string }{
	{"https://0x7f000001/in", `host "0x7f000001" is 127.0.0.1 written another way, which is in Loopback (127.0.0.0/8)`},
	{"https://127.1/in", "is 127.0.0.1 written another way"},
	{"https://2130706433/in", "is 127.0.0.1 written another way"},
	{"https://0177.0.0.1/in", "is 127.0.0.1 written another way"},
	{"https://0x7f.0.0.1:8443/in", "is 127.0.0.1 written another way"},
	{"https://127.0.0.1./in", "is 127.0.0.1 written another way"},
	{"https://0xa9fea9fe/latest", "169.254.169.254 written another way, which is in Link Local"},
	{"https://[::ffff:127.0.0.1]/in", "IPv4-mapped form of 127.0.0.1"},
	{"https://[::ffff:a9fe:a9fe]/in", "IPv4-mapped form of 169.254.169.254"},
	{"https://[::127.0.0.1]/in", "IPv4-compatible"},
	{"https://[64:ff9b::7f00:1]/in", "NAT64 form of 127.0.0.1"},
	{"https://[2002:7f00:1::1]/in", "6to4"},
	{"https://[2001::1]/in", "TEREDO"},
	{"https://[fe80::1%25eth0]/in", "carries an IPv6 zone"},
	{"https://[2001:4860::1%25eth0]/in", "carries an IPv6 zone"},
	{"https://100.64.0.1/in", "Shared Address Space"},
	{"https://192.0.0.9/in", "Port Control Protocol Anycast"},
	{"https://198.18.0.1/in", "Benchmarking"},
	{"https://203.0.113.7/in", "TEST-NET-3"},
	{"https://240.0.0.1/in", "Reserved"},
	{"https://224.0.0.1/in", "Multicast"},
	{"https://[ff0e::1]/in", "Multicast"},
	{"https://[2001:db8::1]/in", "Documentation"},
	{"https://[100::1]/in", "Discard-Only"},
	{"https://010.0.0.1/in", `host "010.0.0.1" is 8.0.0.1 written another way; write it as 8.0.0.1`},
	{"https://siem.example.123/in", "ends in a number"},
	{"https://99999999999/in", "ends in a number"},
	{"https://%31%32%37.0.0.1/in", "must be a valid URL"}, // Go's url.Parse refuses it; a browser would read 127.0.0.1
}

func TestCheckEndpointHosts(t *testing.T) {
	t.Parallel()
	for _, tc := range hostileEndpoints {
		var ae *apperr.Error
		if err := checkEndpoint(tc.endpoint, false); !errors.As(err, &ae) || len(ae.Params) != 1 || !strings.Contains(ae.Params[0].Reason, tc.reason) {
			t.Errorf("%s: %+v, want a refusal saying %q", tc.endpoint, ae, tc.reason)
		}
		if err := checkEndpoint(tc.endpoint, true); err != nil && !strings.Contains(tc.endpoint, "%") {
			t.Errorf("%s refused with --insecure-destinations: %v", tc.endpoint, err)
		}
	}
	for _, ok := range []string{"https://siem.example.com/in", "https://8.8.8.8/in", "https://[2001:4860:4860::8888]:8443/in",
		"https://[::ffff:8.8.8.8]/in", "https://[64:ff9b::808:808]/in", "https://123.example/in", "https://siem.example.com./in"} {
		if err := checkEndpoint(ok, false); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// Creating or changing a destination to a hostile host is a 400 whose
// invalid_parameters name the endpoint and say why; --insecure-destinations
// lifts the check as it does for plain loopback.
func TestDestinationRefusesNumericHosts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	_, tok := h.org("o")
	dev := newHarness(t, Config{InsecureDestinations: true})
	_, devTok := dev.org("o")
	var d destOut
	h.call(http.MethodPost, "/v3/audit-log-destinations", tok, newDest("d")).expect(t, http.StatusCreated).decode(t, &d)
	for _, tc := range hostileEndpoints[:8] {
		body := newDest("x")
		body["endpoint"] = tc.endpoint
		for _, r := range []*response{
			h.call(http.MethodPost, "/v3/audit-log-destinations", tok, body),
			h.call(http.MethodPatch, "/v3/audit-log-destinations/"+d.ID, tok, map[string]any{"endpoint": tc.endpoint}),
		} {
			p := r.problem(t, http.StatusBadRequest)
			params, _ := p["invalid_parameters"].([]any)
			if len(params) != 1 {
				t.Fatalf("%s: invalid_parameters %v", tc.endpoint, p["invalid_parameters"])
			}
			ip := params[0].(map[string]any)
			if reason, _ := ip["reason"].(string); ip["field"] != "endpoint" || !strings.Contains(reason, tc.reason) {
				t.Errorf("%s: %v, want endpoint: %q", tc.endpoint, ip, tc.reason)
			}
		}
		dev.call(http.MethodPost, "/v3/audit-log-destinations", devTok, body).expect(t, http.StatusCreated)
	}
}
