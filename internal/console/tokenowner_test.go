package console

import (
	"context"
	"fmt"
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

// TestTokenCreationChoosesItsOwner: a token created on the console is its
// creator's by default; an org admin may create an org-level token (owned
// by no user, so disabling its creator does not stop ingest); no one else
// may; the authorization entry of the creation names which.
func TestTokenCreationChoosesItsOwner(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	ada := e.user("ada@example.com", store.RoleOrgAdmin)
	aud := e.user("aud@example.com", store.RoleAuditLogAdmin)
	adas, auds := e.browser(), e.browser()
	adas.login(ada.Email, testPassword)
	auds.login(aud.Email, testPassword)

	// The form offers the choice, "owned by me" checked.
	form := adas.get("/tokens").body
	for _, want := range []string{`<legend>Owner</legend>`, `id="owner-me" name="owner" type="radio" value="me" checked`,
		`id="owner-org" name="owner" type="radio" value="org" aria-describedby`, "Org token (no owner)"} {
		if !strings.Contains(form, want) {
			t.Errorf("the token form lacks %q", want)
		}
	}

	cases := []struct {
		name     string
		b        *browser
		user     store.User
		owner    string // the form's value; "-" sends none
		status   int
		resource string // Authz.<resource> of the creation
		granted  bool
		ownerID  string // of the created token; "-" for none created
	}{
		{"default", adas, ada, "-", http.StatusCreated, "tokens", true, ada.ID},
		{"owned by me", adas, ada, "me", http.StatusCreated, "tokens", true, ada.ID},
		{"org token", adas, ada, "org", http.StatusCreated, "org-tokens", true, ""},
		{"unknown owner", adas, ada, "someone", http.StatusBadRequest, "tokens", true, "-"},
		{"org token by a non-admin", auds, aud, "org", http.StatusForbidden, "org-tokens", false, "-"},
	}
	for i, c := range cases {
		name := fmt.Sprintf("token-%d", i)
		f := url.Values{"name": {name}, "role": {string(store.RoleProducer)}, "expires": {"0"}}
		if c.owner != "-" {
			f.Set("owner", c.owner)
		}
		p := c.b.post("/tokens", "/tokens", f)
		if p.status != c.status {
			t.Fatalf("%s: %d, want %d: %s", c.name, p.status, c.status, p.body)
		}
		// After a creation the form offers the user's own token again.
		if p.status == http.StatusCreated && !strings.Contains(p.body, `id="owner-me" name="owner" type="radio" value="me" checked`) {
			t.Errorf("%s: the form after it does not default to the user's own token", c.name)
		}
		var created *store.Token
		ts, err := e.st.ListTokens(context.Background(), e.org.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range ts {
			if tok.Name == name {
				created = &tok
			}
		}
		switch {
		case c.ownerID == "-" && created != nil:
			t.Errorf("%s: a token was created: %+v", c.name, *created)
		case c.ownerID != "-" && (created == nil || created.OwnerUserID != c.ownerID):
			t.Errorf("%s: created %+v, want owner %q", c.name, created, c.ownerID)
		}
		var last audit.Entry
		for _, x := range e.entries(e.org.ID) {
			if x.Entry.Kind == audit.KindAuthorization && x.Entry.Action == audit.ActionCreate {
				last = x.Entry
			}
		}
		if last.Name != audit.AuthzNamePrefix+c.resource || last.Granted != c.granted || last.PrincipalID != c.user.ID {
			t.Errorf("%s: creation entry %s granted=%v by %s, want %s%s granted=%v by %s", c.name,
				last.Name, last.Granted, last.PrincipalID, audit.AuthzNamePrefix, c.resource, c.granted, c.user.ID)
		}
	}
}

// TestDisablingAUserSaysHowManyTokensGo: the Users page shows how many
// API tokens each user owns before the admin disables one (in the table
// and the button's name), and the notice after it says how many were
// revoked; an org token its creator made survives the creator.
func TestDisablingAUserSaysHowManyTokensGo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	ada := e.user("ada@example.com", store.RoleOrgAdmin)
	eve := e.user("eve@example.com", store.RoleOrgAdmin)
	ro := e.user("ro@example.com", store.RoleReadOnly)
	adas, eves := e.browser(), e.browser()
	adas.login(ada.Email, testPassword)
	eves.login(eve.Email, testPassword)
	eves.createToken("eve-ci")
	eves.createToken("eve-cli")
	p := eves.post("/tokens", "/tokens", url.Values{"name": {"ingest"}, "role": {string(store.RoleProducer)}, "expires": {"0"}, "owner": {"org"}})
	m := tokenSecret.FindStringSubmatch(p.body)
	if p.status != http.StatusCreated || m == nil {
		t.Fatalf("create the org token: %d %s", p.status, p.body)
	}
	ingest := m[1]

	users := adas.get("/users").body
	for _, want := range []string{`aria-label="Disable eve@example.com, revoking 2 API tokens"`, `aria-label="Disable ro@example.com"`} {
		if !strings.Contains(users, want) {
			t.Errorf("the Users page lacks %q:\n%s", want, users)
		}
	}

	cases := []struct {
		user   store.User
		want   string
		notice string
	}{
		{eve, "/users?m=disabled&revoked=2", "the 2 API tokens the user owned were revoked"},
		{ro, "/users?m=disabled&revoked=0", "the user owned no API token"},
	}
	for _, c := range cases {
		p := adas.post("/users", "/users/"+c.user.ID+"/disable", url.Values{})
		if p.status != http.StatusSeeOther || p.location != c.want {
			t.Fatalf("disable %s: %d %q, want 303 %q", c.user.Email, p.status, p.location, c.want)
		}
		if got := adas.get(p.location).body; !strings.Contains(got, c.notice) {
			t.Errorf("after disabling %s the notice lacks %q", c.user.Email, c.notice)
		}
	}
	if got := adas.get("/users?m=disabled&revoked=1").body; !strings.Contains(got, "the 1 API token the user owned was revoked") {
		t.Errorf("the notice for one token is wrong")
	}
	e.clk.Advance(tenancy.TokenCacheTTL)
	// A producer token may not read destinations (403), but it is known:
	// a revoked one answers 401.
	if got := e.apiStatus(ingest); got != http.StatusForbidden {
		t.Errorf("the org token of a disabled admin answered %d, want 403 (alive, producer)", got)
	}
}
