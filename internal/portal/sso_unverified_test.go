package portal

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"github.com/sigtrail/sigtrail/internal/audit"
)

// oneUser is an identity provider's user store of one user.
type oneUser struct{ u *storage.User }

func (o oneUser) GetUserByID(id string) *storage.User {
	if id == o.u.ID {
		return o.u
	}
	return nil
}
func (o oneUser) GetUserByUsername(n string) *storage.User {
	if n == o.u.Username {
		return o.u
	}
	return nil
}
func (oneUser) ExampleClientID() string { return "service" }

// Someone whose identity provider asserts the address of an existing
// password account without having verified it (email_verified false)
// gets no session and no account: the attempt is INVALID, the account is
// left as it was, and its owner still logs in with their password.
func TestSSOUnverifiedEmailOpensNoAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, insecureDestinations)
	jane := e.signUp("jane@example.com")
	mallory := &storage.User{ID: "mallory", Username: "mallory", Password: "mallory-idp-password", FirstName: "Jane", LastName: "Doe",
		Email: "jane@example.com", EmailVerified: false}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	st := storage.NewStorageWithClients(oneUser{mallory}, map[string]*storage.Client{"portal": storage.WebClient("portal", "secret", e.base+ssoCallbackPath)})
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: exampleop.SetupServer(issuer, st, nil, false)}}
	srv.Start()
	t.Cleanup(srv.Close)
	e.addIdP(issuer)

	start := e.do(e.client, http.MethodGet, ssoStartPath, nil, nil)
	if start.StatusCode != http.StatusFound {
		t.Fatalf("start: %d %s", start.StatusCode, start.body)
	}
	cb, err := url.Parse(loginAtOPAs(t, start.Header.Get("Location"), mallory))
	if err != nil {
		t.Fatal(err)
	}
	r := e.do(e.client, http.MethodGet, cb.RequestURI(), nil, map[string]string{"Accept": "text/html"})
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(string(r.body), "did not confirm your email address") {
		t.Fatalf("callback with an unverified email: %d %s", r.StatusCode, r.body)
	}
	for _, c := range r.Cookies() {
		if c.Name == accessCookie && c.Value != "" {
			t.Fatalf("a session cookie was set: %+v", c)
		}
	}
	if me := e.do(e.client, http.MethodGet, "/api/v2/developer/me", nil, nil); me.StatusCode != http.StatusUnauthorized {
		t.Fatalf("/me after the refused callback: %d %s", me.StatusCode, me.body)
	}
	if got := e.developer("jane@example.com"); got != jane {
		t.Errorf("the account changed:\n got %+v\nwant %+v", got, jane)
	}
	if r := e.login(e.client, "jane@example.com", testPassword); r.StatusCode != http.StatusNoContent {
		t.Errorf("the owner's password log-in: %d %s", r.StatusCode, r.body)
	}
	var sso []audit.Entry
	for _, x := range e.entries() {
		if x.ClassID == audit.AuthTypeSSO {
			sso = append(sso, x)
		}
	}
	if len(sso) != 1 || sso[0].Name != string(audit.OutcomeInvalid) || sso[0].PrincipalID != "" {
		t.Errorf("SSO entries %+v, want one INVALID naming nobody", sso)
	}
}
