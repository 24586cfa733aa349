package console

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/tenancy"
)

var tokenSecret = regexp.MustCompile(`id="token-secret">([^<]+)<`)

// createToken creates a never-expiring org-admin token on the Tokens page
// and returns its secret.
func (b *browser) createToken(name string) string {
	b.e.t.Helper()
	p := b.post("/tokens", "/tokens", url.Values{"name": {name}, "role": {string(store.RoleOrgAdmin)}, "expires": {"0"}})
	m := tokenSecret.FindStringSubmatch(p.body)
	if p.status != http.StatusCreated || m == nil {
		b.e.t.Fatalf("create token %s: %d %s", name, p.status, p.body)
	}
	return m[1]
}

// apiStatus is the status of an API read with the bearer secret.
func (e *env) apiStatus(secret string) int {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/v3/audit-log-destinations", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestDisablingAUserRevokesTheTokensItOwns: an org admin who creates a
// never-expiring org-admin token before being disabled keeps no access:
// disabling revokes the tokens the user created, each revocation is in the
// org log naming the admin who disabled, and other tokens live on.
func TestDisablingAUserRevokesTheTokensItOwns(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	ada := e.user("ada@example.com", store.RoleOrgAdmin)
	eve := e.user("eve@example.com", store.RoleOrgAdmin)
	ro := e.user("ro@example.com", store.RoleReadOnly)
	_, orgSecret, err := tenancy.New(e.st, e.clk).CreateToken(context.Background(),
		tenancy.TokenSpec{OrgID: e.org.ID, Name: "operator", Role: store.RoleOrgAdmin})
	if err != nil {
		t.Fatal(err)
	}

	evesBrowser, adasBrowser := e.browser(), e.browser()
	evesBrowser.login(eve.Email, testPassword)
	adasBrowser.login(ada.Email, testPassword)
	eveSecrets := []string{evesBrowser.createToken("eve-backdoor"), evesBrowser.createToken("eve-ci")}
	adaSecret := adasBrowser.createToken("ada-ci")
	for _, s := range append([]string{orgSecret, adaSecret}, eveSecrets...) {
		if got := e.apiStatus(s); got != http.StatusOK {
			t.Fatalf("a fresh token answered %d", got)
		}
	}

	// The Tokens page names each token's owner: by email to an org admin,
	// not to a read-only user (who may not list users).
	page := adasBrowser.get("/tokens").body
	for _, want := range []string{"<td>eve-backdoor</td>", "<td>eve@example.com</td>", "<td>ada@example.com</td>", "org (no owner)"} {
		if !strings.Contains(page, want) {
			t.Errorf("the Tokens page lacks %q", want)
		}
	}
	roBrowser := e.browser()
	roBrowser.login(ro.Email, testPassword)
	if p := roBrowser.get("/tokens").body; strings.Contains(p, "eve@example.com") || !strings.Contains(p, "another user") {
		t.Errorf("a read-only user's Tokens page names owners wrongly:\n%s", p)
	}

	var eveTokens []store.Token
	ts, err := e.st.ListTokens(context.Background(), e.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range ts {
		if tok.OwnerUserID == eve.ID {
			eveTokens = append(eveTokens, tok)
		}
	}
	if len(eveTokens) != 2 {
		t.Fatalf("eve owns %d tokens, want 2: %+v", len(eveTokens), ts)
	}

	if p := adasBrowser.post("/users", "/users/"+eve.ID+"/disable", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("disable answered %d: %s", p.status, p.body)
	}
	e.clk.Advance(tenancy.TokenCacheTTL) // a server trusts a token it verified for this long
	for _, s := range eveSecrets {
		if got := e.apiStatus(s); got != http.StatusUnauthorized {
			t.Errorf("a token of the disabled user answered %d, want 401", got)
		}
	}
	for _, s := range []string{orgSecret, adaSecret} {
		if got := e.apiStatus(s); got != http.StatusOK {
			t.Errorf("a token the disabled user does not own answered %d", got)
		}
	}
	if p := evesBrowser.get("/tokens"); p.status != http.StatusSeeOther || p.location != "/login" {
		t.Errorf("the disabled user's session still opens pages: %d %q", p.status, p.location)
	}

	// Each revocation is an entry naming the admin, in the disabling
	// request's trace.
	var trace string
	revoked := map[string]audit.Entry{}
	for _, x := range e.entries(e.org.ID) {
		en := x.Entry
		if en.Kind == audit.KindAuthorization && en.Name == "Authz.users" && en.Action == audit.ActionEdit && en.PrincipalID == ada.ID {
			trace = en.TraceID
		}
		if strings.HasPrefix(en.Name, "Authz.tokens/") {
			revoked[strings.TrimPrefix(en.Name, "Authz.tokens/")] = en
		}
	}
	if len(revoked) != len(eveTokens) {
		t.Fatalf("%d revocation entries, want %d: %+v", len(revoked), len(eveTokens), revoked)
	}
	for _, tok := range eveTokens {
		en, ok := revoked[tok.ID]
		if !ok || en.Action != audit.ActionDelete || !en.Granted || en.PrincipalID != ada.ID || en.OrgID != e.org.ID ||
			en.TraceID != trace || en.KongInitiated {
			t.Errorf("revocation of %s: %+v (trace of the disabling %q)", tok.ID, en, trace)
		}
	}

	// Enabling again restores no token.
	if p := adasBrowser.post("/users", "/users/"+eve.ID+"/enable", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("enable answered %d", p.status)
	}
	for _, s := range eveSecrets {
		if got := e.apiStatus(s); got != http.StatusUnauthorized {
			t.Errorf("after enabling, a revoked token answered %d", got)
		}
	}
}
