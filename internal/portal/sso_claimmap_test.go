package portal

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"github.com/sigtrail/sigtrail/internal/audit"
)

// email_verified says the provider verified the email claim, nothing
// else. A portal whose claim mapping reads the address from another claim
// (here preferred_username, which the provider's user chose) must not
// take that flag for it: a user whose verified email is their own, and
// whose user name is someone else's address, would otherwise open that
// person's account. The mapped address must be the verified email.
func TestSSOMappedEmailClaimMustBeTheVerifiedEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t, insecureDestinations)
	jane := e.signUp("jane@example.com")
	mallory := &storage.User{ID: "mallory", Username: "jane@example.com", Password: "mallory-idp-password", FirstName: "M", LastName: "M",
		Email: "mallory@example.net", EmailVerified: true}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	st := storage.NewStorageWithClients(oneUser{mallory}, map[string]*storage.Client{"portal": storage.WebClient("portal", "secret", e.base+ssoCallbackPath)})
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: exampleop.SetupServer(issuer, st, nil, false)}}
	srv.Start()
	t.Cleanup(srv.Close)
	idp := e.addIdP(issuer)
	idp.ClaimEmail = "preferred_username"
	if err := e.st.UpdateIdentityProvider(context.Background(), idp); err != nil {
		t.Fatal(err)
	}

	start := e.do(e.client, http.MethodGet, ssoStartPath, nil, nil)
	if start.StatusCode != http.StatusFound {
		t.Fatalf("start: %d %s", start.StatusCode, start.body)
	}
	cb, err := url.Parse(loginAtOPAs(t, start.Header.Get("Location"), mallory))
	if err != nil {
		t.Fatal(err)
	}
	r := e.do(e.client, http.MethodGet, cb.RequestURI(), nil, nil)
	if r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("callback: %d %s (Location %q)", r.StatusCode, r.body, r.Header.Get("Location"))
	}
	if me := e.do(e.client, http.MethodGet, "/api/v2/developer/me", nil, nil); me.StatusCode != http.StatusUnauthorized {
		t.Fatalf("someone else is logged in to jane's account: /me %d %s", me.StatusCode, me.body)
	}
	if got := e.developer("jane@example.com"); got != jane {
		t.Errorf("the account changed:\n got %+v\nwant %+v", got, jane)
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
