package portal

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// An identity provider that answers with an error page: the developer gets
// the page that says the provider could not be reached (503, not 500,
// none of the provider's text), and the server's log gets a bounded line,
// not the provider's page: anyone may open the start as often as they
// like, and each opening asks the provider again.
func TestSSOProviderErrorPageStaysOutOfTheLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t, insecureDestinations)
	const marker = "PROVIDER-ERROR-TEXT "
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(strings.Repeat(marker, 10000))) // 200 kB
	}))
	defer idp.Close()
	e.addIdP(idp.URL)

	for range 3 {
		r := e.do(e.client, http.MethodGet, ssoStartPath, nil, map[string]string{"Accept": "text/html"})
		if r.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "could not be reached") || strings.Contains(string(r.body), marker) {
			t.Fatalf("start: %d %s", r.StatusCode, r.body)
		}
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "oidc discovery") {
		t.Fatalf("no log line for the failed discovery:\n%.2000s", logs)
	}
	if n := strings.Count(logs, marker); n > 3*(maxIdPErrorLog/len(marker)+1) {
		t.Errorf("the log holds the provider's text %d times (%d bytes of log for 3 attempts)", n, len(logs))
	}
}

// The start is open to anyone and not rate limited: while a portal's
// provider fails, its failure is kept for a few seconds (on the server's
// clock), so each opening does not make the server ask the provider again
// (and hold a connection to it for up to 15 s). Once that time has passed
// the provider is asked again.
func TestSSOFailedDiscoveryIsNotRetriedOnEveryStart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, insecureDestinations)
	var hits atomic.Int64
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer idp.Close()
	e.addIdP(idp.URL)

	start := func() {
		t.Helper()
		if r := e.do(e.client, http.MethodGet, ssoStartPath, nil, nil); r.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("start: %d %s", r.StatusCode, r.body)
		}
	}
	for range 20 {
		start()
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("20 starts asked the failing provider %d times, want once", n)
	}
	e.clk.Advance(11 * time.Second)
	start()
	if n := hits.Load(); n != 2 {
		t.Fatalf("a start after the failure's time asked the provider %d times in all, want 2", n)
	}
}
