package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/dnstest"
)

var portalLine = regexp.MustCompile(`Dev Portals on http://<portal>\.\S+:(\d+)`)

// TestServeChecksCustomDomains boots serve with the custom domain flags
// from the environment, as an operator would: with dns (the default) a
// claimed name is served only once the DNS server it was told to ask
// shows the CNAME; with none at once.
func TestServeChecksCustomDomains(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"", "none"} {
		t.Run("mode="+mode, func(t *testing.T) {
			t.Parallel()
			srv := dnstest.Start(t)
			const token = "stpat_custom-domain-test-0123456789abcdef"
			env := map[string]string{"SIGTRAIL_BOOTSTRAP_TOKEN": token, "SIGTRAIL_CUSTOM_DOMAIN_CHECK": mode,
				"SIGTRAIL_CUSTOM_DOMAIN_DNS_SERVERS": srv.Addr, "SIGTRAIL_PORTAL_DOMAIN_SUFFIX": "portals.test"}
			ctx, cancel := context.WithCancel(context.Background())
			out, errs := &lockedBuffer{}, &lockedBuffer{}
			done := make(chan int, 1)
			go func() {
				done <- Run(ctx, []string{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--portal-addr", "127.0.0.1:0"},
					func(k string) string { return env[k] }, strings.NewReader(""), out, errs)
			}()
			defer func() {
				cancel()
				if code := <-done; code != 0 {
					t.Errorf("serve exit %d: %s", code, errs.String())
				}
			}()
			var base, portalPort string
			for deadline := time.Now().Add(30 * time.Second); base == ""; time.Sleep(20 * time.Millisecond) {
				if m := serveLine.FindStringSubmatch(out.String()); m != nil {
					base, portalPort = m[1], portalLine.FindStringSubmatch(out.String())[1]
				} else if time.Now().After(deadline) {
					t.Fatalf("serve did not start: %s", errs.String())
				}
			}
			call := func(method, path string, body any) map[string]any {
				t.Helper()
				b, _ := json.Marshal(body)
				req, _ := http.NewRequest(method, base+path, bytes.NewReader(b))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var v map[string]any
				raw, _ := io.ReadAll(resp.Body)
				if resp.StatusCode >= 300 || json.Unmarshal(raw, &v) != nil {
					t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
				}
				return v
			}
			portalStatus := func(host string) int {
				t.Helper()
				req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+portalPort+"/login", nil)
				req.Host = host
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			p := call(http.MethodPost, "/v3/portals", map[string]any{"name": "acme"})
			path := "/v3/portals/" + p["id"].(string) + "/custom-domain"
			d := call(http.MethodPost, path, map[string]any{"hostname": "developer.acme.test", "enabled": true,
				"ssl": map[string]any{"domain_verification_method": "http"}})
			if mode == "none" {
				if d["cname_status"] != "verified" || portalStatus("developer.acme.test") != http.StatusOK {
					t.Fatalf("none: %v", d)
				}
				return
			}
			if d["cname_status"] != "pending" || portalStatus("developer.acme.test") != http.StatusNotFound {
				t.Fatalf("dns, no CNAME: %v", d)
			}
			srv.A("acme.portals.test")
			srv.CNAME("developer.acme.test", "acme.portals.test")
			if d := call(http.MethodPatch, path, map[string]any{"enabled": true}); d["cname_status"] != "verified" {
				t.Fatalf("dns, after the CNAME: %v", d)
			}
			if got := portalStatus("developer.acme.test"); got != http.StatusOK {
				t.Fatalf("dns, verified: portal answers %d", got)
			}
		})
	}
}
