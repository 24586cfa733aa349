package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/smtptest"
)

const token = "stpat_e2e-bootstrap-secret-0123456789"

// howto is one run of the seed how-to against fresh processes.
type howto struct {
	t       *testing.T
	srv     server
	sinkOut string
	portal  *http.Client
	host    string // the portal's default domain with port
	mail    *smtptest.Server
	destID  string
	portID  string
}

func newHowto(t *testing.T, format string) *howto {
	t.Helper()
	dir := t.TempDir()
	mail := smtptest.Start(t)
	srv := startServe(t, filepath.Join(dir, "data"), token, "--smtp-url", mail.URL(), "--smtp-from", "portal@example.com")
	h := &howto{t: t, srv: srv, sinkOut: filepath.Join(dir, "siem.log"), mail: mail}
	sink := startSink(t, h.sinkOut, srv.api+"/v2/audit-log-webhook/jwks.json")

	// The how-to's first step, with its body verbatim but for the endpoint.
	var dest struct {
		ID string `json:"id"`
	}
	h.api("POST", "/v3/audit-log-destinations", map[string]any{
		"endpoint":      sink + "/",
		"authorization": "Bearer siem-token",
		"log_format":    format,
		"name":          "Example destination",
	}, http.StatusCreated, &dest)
	h.destID = dest.ID

	// The prerequisite Dev Portal.
	var portal struct {
		ID            string `json:"id"`
		DefaultDomain string `json:"default_domain"`
	}
	h.api("POST", "/v3/portals", map[string]any{"name": "howto", "auto_approve_developers": true}, http.StatusCreated, &portal)
	h.portID = portal.ID
	h.host = portal.DefaultDomain + ":" + srv.portalPort
	h.portal = portalClient(srv.portalPort)

	// The how-to's second step.
	h.api("PATCH", "/v3/portals/"+h.portID+"/audit-log-webhook", map[string]any{
		"audit_log_destination_id": h.destID,
		"enabled":                  true,
	}, http.StatusOK, nil)
	return h
}

// api calls the management API with the bootstrap token.
func (h *howto) api(method, path string, body any, want int, out any) {
	h.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, h.srv.api+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		h.t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, raw, want)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			h.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
}

// dev calls the Dev Portal's developer API on the portal's own origin.
func (h *howto) dev(path string, body any, want int) []byte {
	h.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", "http://"+h.host+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "howto-e2e/1.0")
	resp, err := h.portal.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		h.t.Fatalf("POST %s: %d %s, want %d", path, resp.StatusCode, raw, want)
	}
	return raw
}

var linkToken = regexp.MustCompile(`[?&]token=([A-Za-z0-9_\-.]+)`)

// signUp registers a developer, follows the emailed link and sets a password.
func (h *howto) signUp(email, password string) {
	h.t.Helper()
	h.dev("/api/v2/developer", map[string]string{"email": email, "full_name": "Test Developer"}, http.StatusCreated)
	msg := h.mail.Next(h.t, 10*time.Second)
	if msg.To != email {
		h.t.Fatalf("email went to %q, want %q", msg.To, email)
	}
	m := linkToken.FindStringSubmatch(msg.Body)
	if m == nil {
		h.t.Fatalf("no link with a token in the email:\n%s", msg.Body)
	}
	var verified struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(h.dev("/api/v2/developer/verify-email", map[string]string{"token": m[1]}, http.StatusAccepted), &verified); err != nil || verified.Token == "" {
		h.t.Fatalf("verify-email answered no reset token (%v)", err)
	}
	h.dev("/api/v2/developer/reset-password", map[string]string{"token": verified.Token, "password": password}, http.StatusNoContent)
}

// sinkLines returns what the SIEM has received so far.
func (h *howto) sinkLines() []string {
	b, err := os.ReadFile(h.sinkOut)
	if err != nil && !os.IsNotExist(err) {
		h.t.Fatal(err)
	}
	s := strings.TrimRight(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// awaitNewLines waits up to 2 seconds, the how-to's promise here, for the
// sink to hold more than before lines, then a little longer to be sure no
// extra line follows, and returns the new ones.
func (h *howto) awaitNewLines(before int) []string {
	h.t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if l := h.sinkLines(); len(l) > before {
			time.Sleep(200 * time.Millisecond)
			return h.sinkLines()[before:]
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatalf("the SIEM received nothing within 2s of the login")
	return nil
}

func (h *howto) verifyWithCLI() {
	h.t.Helper()
	out, code := runCLI(h.t, "verify", "--jwks", h.srv.api+"/v2/audit-log-webhook/jwks.json", h.sinkOut)
	n := len(h.sinkLines())
	want := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(strings.TrimSpace(
		strings.Join([]string{itoa(n), "verified, 0 failed"}, " "))) + `$`)
	if code != 0 || !want.MatchString(out) {
		h.t.Fatalf("sigtrail verify: exit %d:\n%s", code, out)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// The seed's line, with every extension in the seed's order and nothing else.
var seedCEF = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ konghq\.com ` +
	`CEF:0\|KongInc\|Dev-Portal\|1\.0\|AUTHENTICATION_TYPE_BASIC\|AUTHENTICATION_OUTCOME_(\w+)\|(\d+)\|` +
	`rt=\d{13} src=127\.0\.0\.1 request=/api/v2/developer/authenticate success=(true|false) ` +
	`org_id=[0-9a-f-]{36} portal_id=([0-9a-f-]{36}) principal_id=([0-9a-f-]{36}) trace_id=\d+ ` +
	`user_agent=howto-e2e/1\.0 sig=[A-Za-z0-9_-]{86}$`)

func TestHowToCollectDevPortalAuditLogsCEF(t *testing.T) {
	t.Parallel()
	h := newHowto(t, "cef")
	h.signUp("dev@example.com", "a long enough password")
	before := len(h.sinkLines())

	h.dev("/api/v2/developer/authenticate", map[string]string{"username": "dev@example.com", "password": "a long enough password"}, http.StatusNoContent)
	lines := h.awaitNewLines(before)
	if len(lines) != 1 {
		t.Fatalf("the SIEM got %d new lines, want exactly 1:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	m := seedCEF.FindStringSubmatch(lines[0])
	if m == nil {
		t.Fatalf("line is not of the seed's shape:\n%s", lines[0])
	}
	if m[1] != "SUCCESS" || m[2] != "0" || m[3] != "true" || m[4] != h.portID {
		t.Fatalf("outcome %s severity %s success %s portal %s; want SUCCESS 0 true %s", m[1], m[2], m[3], m[4], h.portID)
	}
	h.verifyWithCLI()

	// The same with a wrong password: INVALID_PASSWORD, severity 1.
	before = len(h.sinkLines())
	h.dev("/api/v2/developer/authenticate", map[string]string{"username": "dev@example.com", "password": "not the password"}, http.StatusUnauthorized)
	lines = h.awaitNewLines(before)
	if len(lines) != 1 {
		t.Fatalf("the SIEM got %d new lines after a failed login, want 1:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	m = seedCEF.FindStringSubmatch(lines[0])
	if m == nil || m[1] != "INVALID_PASSWORD" || m[2] != "1" || m[3] != "false" {
		t.Fatalf("want an INVALID_PASSWORD line of severity 1, got:\n%s", lines[0])
	}
	h.verifyWithCLI()
}

var sigLast = regexp.MustCompile(`,"sig":"[A-Za-z0-9_-]{86}"}}?$`)

func TestHowToWithJSONAndCPSDestinations(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"json", "cps"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			h := newHowto(t, format)
			h.signUp("dev@example.com", "a long enough password")
			before := len(h.sinkLines())
			h.dev("/api/v2/developer/authenticate", map[string]string{"username": "dev@example.com", "password": "a long enough password"}, http.StatusNoContent)
			lines := h.awaitNewLines(before)
			if len(lines) != 1 {
				t.Fatalf("the SIEM got %d new lines, want 1:\n%s", len(lines), strings.Join(lines, "\n"))
			}
			var obj map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &obj); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, lines[0])
			}
			if format == "cps" {
				inner, ok := obj["event"].(map[string]any)
				if !ok || len(obj) != 1 {
					t.Fatalf("CPS line is not {\"event\":{...}}:\n%s", lines[0])
				}
				obj = inner
			}
			want := map[string]any{
				"cef_version": 0.0, "event_vendor": "KongInc", "event_product": "Dev-Portal", "event_version": "1.0",
				"event_class_id": "AUTHENTICATION_TYPE_BASIC", "name": "AUTHENTICATION_OUTCOME_SUCCESS",
				"severity": 0.0, "success": true, "request": "/api/v2/developer/authenticate",
				"portal_id": h.portID, "src": "127.0.0.1", "user_agent": "howto-e2e/1.0",
			}
			for k, v := range want {
				if obj[k] != v {
					t.Errorf("%s = %#v, want %#v", k, obj[k], v)
				}
			}
			if _, ok := obj["rt"].(float64); !ok {
				t.Errorf("rt is %#v, want an integer", obj["rt"])
			}
			if _, ok := obj["trace_id"].(string); !ok {
				t.Errorf("trace_id is %#v, want a string", obj["trace_id"])
			}
			if !sigLast.MatchString(lines[0]) {
				t.Errorf("sig is not the last key:\n%s", lines[0])
			}
			h.verifyWithCLI()
		})
	}
}
