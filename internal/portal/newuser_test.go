package portal

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestHostWithoutPortalGetsAStyledPage: a mistyped portal name is a page
// in the portals' look (its stylesheet served too), not a bare 404.
func TestHostWithoutPortalGetsAStyledPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, port, _ := net.SplitHostPort(e.addr)
	get := func(path string) (*http.Response, string) {
		t.Helper()
		res, err := e.newClient().Get("http://nope.localhost:" + port + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	res, body := get("/login")
	if res.StatusCode != 404 || !strings.Contains(body, `href="/assets/portal.css"`) || !strings.Contains(body, `id="noportal"`) ||
		!strings.Contains(body, "nope.localhost") || strings.Contains(body, `href="/signup"`) {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if res, css := get("/assets/portal.css"); res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") || css == "" {
		t.Fatalf("stylesheet for the page: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

// TestSignUpWithoutMailServerSaysSo: with emails going to the log only, the
// page must not say one was sent.
func TestSignUpWithoutMailServerSaysSo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mailer = LogMailer{Logger: slog.New(slog.DiscardHandler)}
	e.serve()
	r, tok := e.page(e.client, "/signup")
	r = e.form(e.client, "/signup", url.Values{"csrf": {tok}, "full_name": {"Jane Doe"}, "email": {"jane@example.com"}}, nil)
	wantPage(t, r, 200, "no email went to", "jane@example.com")
	if strings.Contains(string(r.body), "We sent an email") {
		t.Fatalf("claims an email was sent:\n%s", r.body)
	}
}
