package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/sigtrail/sigtrail/internal/testenv"
)

// The identity provider of the SSO tests is zitadel/oidc's OpenID
// Provider (pkg/op) with the library's own in-memory storage and log-in
// page (its example server packages), on 127.0.0.1. The test wraps the
// storage only to add a groups claim and, on request, to misbehave the
// way a broken or hostile provider would: sign with a key it does not
// publish, address the token to another client, or issue it expired.
type idpUsers map[string]*storage.User

func (u idpUsers) GetUserByID(id string) *storage.User { return u[id] }
func (u idpUsers) GetUserByUsername(name string) *storage.User {
	for _, x := range u {
		if x.Username == name {
			return x
		}
	}
	return nil
}
func (u idpUsers) ExampleClientID() string { return "service" }

type testIdP struct {
	*storage.Storage
	groups map[string][]string // by user ID

	unpublishedKey, otherAudience, expired atomic.Bool
	rogue                                  *rsa.PrivateKey
}

func (s *testIdP) addGroups(ui *oidc.UserInfo, userID string) {
	if g, ok := s.groups[userID]; ok {
		ui.AppendClaims("groups", g)
	}
}

func (s *testIdP) SetUserinfoFromScopes(ctx context.Context, ui *oidc.UserInfo, userID, clientID string, scopes []string) error {
	if err := s.Storage.SetUserinfoFromScopes(ctx, ui, userID, clientID, scopes); err != nil {
		return err
	}
	s.addGroups(ui, userID)
	return nil
}

func (s *testIdP) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, ui, tokenID, subject, origin); err != nil {
		return err
	}
	s.addGroups(ui, subject)
	return nil
}

type rogueKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k rogueKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k rogueKey) Key() any                                    { return k.key }
func (k rogueKey) ID() string                                  { return k.id }

// SigningKey signs, when asked, with a key under the published key's ID
// whose public half is published nowhere.
func (s *testIdP) SigningKey(ctx context.Context) (op.SigningKey, error) {
	k, err := s.Storage.SigningKey(ctx)
	if err != nil || !s.unpublishedKey.Load() {
		return k, err
	}
	return rogueKey{id: k.ID(), key: s.rogue}, nil
}

// readdress wraps the token endpoint: when asked, it re-addresses the ID
// token the provider issued to another client and signs it again with the
// provider's own published key, so only the audience is wrong. (The
// library always adds the requesting client to the audience itself.)
func (s *testIdP) readdress(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/token" || !s.otherAudience.Load() {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := map[string]any{}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err == nil {
			if raw, ok := body["id_token"].(string); ok {
				body["id_token"] = s.resign(r.Context(), raw)
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_ = json.NewEncoder(w).Encode(body)
	})
}

func (s *testIdP) resign(ctx context.Context, raw string) string {
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return raw
	}
	claims := map[string]any{}
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &claims); err != nil {
		return raw
	}
	claims["aud"], claims["azp"] = []string{"another-client"}, "another-client"
	payload, _ := json.Marshal(claims)
	k, err := s.Storage.SigningKey(ctx)
	if err != nil {
		return raw
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k.Key(), KeyID: k.ID()}}, nil)
	if err != nil {
		return raw
	}
	out, err := signer.Sign(payload)
	if err != nil {
		return raw
	}
	token, _ := out.CompactSerialize()
	return token
}

type expiredClient struct{ op.Client }

func (expiredClient) IDTokenLifetime() time.Duration { return -10 * time.Minute }

func (s *testIdP) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil || !s.expired.Load() {
		return c, err
	}
	return expiredClient{c}, nil
}

const (
	idpClientID     = "sigtrail-portal"
	idpClientSecret = "portal-client-secret"
	idpPassword     = "idp-password-1"
)

// startIdP starts the provider on 127.0.0.1 with the given users and a web
// client whose only redirect URI is redirect.
func startIdP(t *testing.T, redirect string, users idpUsers, groups map[string][]string) (string, *testIdP) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	rogue, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	clients := map[string]*storage.Client{idpClientID: storage.WebClient(idpClientID, idpClientSecret, redirect)}
	st := &testIdP{Storage: storage.NewStorageWithClients(users, clients), groups: groups, rogue: rogue}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: st.readdress(exampleop.SetupServer(issuer, st, nil, false))}}
	srv.Start()
	t.Cleanup(srv.Close)
	return issuer, st
}

func idpUser(id, email string) *storage.User {
	return &storage.User{ID: id, Username: id, Password: idpPassword, FirstName: strings.ToUpper(id[:1]) + id[1:], LastName: "Example",
		Email: email, EmailVerified: true, PreferredLanguage: language.English}
}

// TestSSOThroughTheBrowser runs single sign-on end to end: sigtrail serve
// and sink as processes, the OIDC provider above, Chromium between them.
// It signs a developer up by SSO with their IdP groups mapped to a team,
// then provokes every failure outcome, and checks the lines the SIEM
// received (fields, outcomes, signatures with sigtrail verify).
func TestSSOThroughTheBrowser(t *testing.T) {
	ctx := testenv.Browser(t, 10*time.Minute, 0, 0)
	h := newHowto(t, "json")
	portalURL := "http://" + h.host
	users := idpUsers{"ada": idpUser("ada", "ada@example.com"), "bob": idpUser("bob", "bob@example.com"), "carol": idpUser("carol", "carol@example.com")}
	issuer, idp := startIdP(t, portalURL+"/api/v2/developer/authenticate/sso/callback", users, map[string][]string{"ada": {"eng", "other"}})

	// Set-up through the management API, as docs/portal-sso.md says.
	base := "/v3/portals/" + h.portID
	var team, otherTeam struct{ ID string }
	h.api("POST", base+"/teams", map[string]any{"name": "Engineers"}, http.StatusCreated, &team)
	h.api("POST", base+"/teams", map[string]any{"name": "Stale"}, http.StatusCreated, &otherTeam)
	var provider struct{ ID string }
	h.api("POST", base+"/identity-providers", map[string]any{"type": "oidc", "enabled": true, "config": map[string]any{
		"issuer_url": issuer, "client_id": idpClientID, "client_secret": idpClientSecret}}, http.StatusCreated, &provider)
	h.api("POST", base+"/identity-providers/"+provider.ID+"/team-group-mappings", map[string]any{"team_id": team.ID, "group": "eng"}, http.StatusCreated, nil)
	h.api("PATCH", base+"/authentication-settings", map[string]any{"idp_mapping_enabled": true}, http.StatusOK, nil)
	h.signUp("bob@example.com", "bob-password-1") // by email; revoked below

	if err := chromedp.Do(ctx, chromedp.Navigate(portalURL+"/login")); err != nil {
		t.Fatal(err)
	}
	userAgent, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.userAgent`))
	if err != nil {
		t.Fatal(err)
	}
	step := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			t.Fatalf("%s: %v (at %s)", what, err, loc)
		}
	}
	clearCookies := func(_ context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, network.ClearBrowserCookies, cdp.Empty{})
		return chromedp.Void{}, err
	}
	toIdP := func(what string) {
		t.Helper()
		step(what+": open the log-in page and choose single sign-on", clearCookies, chromedp.Navigate(portalURL+"/login"),
			chromedp.WaitVisible(chromedp.ID("sso")), chromedp.Click(chromedp.ID("sso")), chromedp.WaitVisible(chromedp.ID("username")))
	}
	atIdP := func(what, user string, end chromedp.Action[chromedp.Void]) {
		t.Helper()
		step(what+": log in at the identity provider", chromedp.SendKeys(chromedp.ID("username"), user),
			chromedp.SendKeys(chromedp.ID("password"), idpPassword), chromedp.Click(chromedp.CSS("button[type=submit]")), end)
	}
	profile, failed := chromedp.WaitVisible(chromedp.ID("profile")), chromedp.WaitVisible(chromedp.ID("error"))
	type want struct{ outcome, email string }
	var wants []want

	// SUCCESS: ada has no account; SSO signs her up (auto-approved) and
	// her "eng" group puts her in Engineers.
	toIdP("ada")
	atIdP("ada", "ada", profile)
	wants = append(wants, want{"SUCCESS", "ada@example.com"})
	var adaTeams struct{ Data []struct{ ID string } }
	var devs struct {
		Data []struct{ ID, Email, Status string }
	}
	h.api("GET", base+"/developers", nil, http.StatusOK, &devs)
	ids := map[string]string{}
	for _, d := range devs.Data {
		ids[d.Email] = d.ID
	}
	h.api("GET", base+"/developers/"+ids["ada@example.com"]+"/teams", nil, http.StatusOK, &adaTeams)
	if len(adaTeams.Data) != 1 || adaTeams.Data[0].ID != team.ID {
		t.Fatalf("ada's teams after SSO: %+v, want Engineers %s", adaTeams.Data, team.ID)
	}

	// DISABLED: bob's account is revoked.
	h.api("PATCH", base+"/developers/"+ids["bob@example.com"], map[string]any{"status": "revoked"}, http.StatusOK, nil)
	toIdP("bob")
	atIdP("bob", "bob", failed)
	wants = append(wants, want{"DISABLED", "bob@example.com"})

	// NOT_FOUND: sign-up by SSO is off and carol has no account.
	h.api("PATCH", base+"/authentication-settings", map[string]any{"sso_sign_up_enabled": false}, http.StatusOK, nil)
	toIdP("carol")
	atIdP("carol", "carol", failed)
	wants = append(wants, want{"NOT_FOUND", ""})

	// INVALID: a forged state (the flow's cookie is there, the state is not it).
	toIdP("forged state")
	step("forged state: come back with another state", chromedp.Navigate(portalURL+"/api/v2/developer/authenticate/sso/callback?state=forged&code=forged"), failed)
	wants = append(wants, want{"INVALID", ""})

	// INVALID: the nonce the ID token carries is not the flow's.
	toIdP("forged nonce")
	step("forged nonce: change the nonce in the flow cookie", func(_ context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{portalURL + "/api/v2/developer/authenticate/sso/callback"}})
		if err != nil {
			return chromedp.Void{}, err
		}
		for _, c := range res.Cookies {
			if c.Name == "portalsso" {
				parts := strings.Split(c.Value, ".")
				parts[1] = "forged-nonce"
				httpOnly := true
				_, err = cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: c.Name, Value: strings.Join(parts, "."),
					URL: portalURL + c.Path, Path: c.Path, HTTPOnly: &httpOnly, SameSite: network.CookieSameSiteLax})
				return chromedp.Void{}, err
			}
		}
		t.Error("no portalsso cookie in the browser")
		return chromedp.Void{}, nil
	})
	atIdP("forged nonce", "ada", failed)
	wants = append(wants, want{"INVALID", ""})

	// INVALID: signature, audience, expiry.
	for _, c := range []struct {
		name string
		flag *atomic.Bool
	}{{"unpublished signing key", &idp.unpublishedKey}, {"another audience", &idp.otherAudience}, {"expired token", &idp.expired}} {
		c.flag.Store(true)
		toIdP(c.name)
		atIdP(c.name, "ada", failed)
		c.flag.Store(false)
		wants = append(wants, want{"INVALID", ""})
	}

	// With basic authentication off, the page offers SSO only and a
	// password log-in is refused and recorded.
	h.api("PATCH", base+"/authentication-settings", map[string]any{"basic_auth_enabled": false}, http.StatusOK, nil)
	step("log-in page without basic auth", chromedp.Navigate(portalURL+"/login"), chromedp.WaitVisible(chromedp.ID("sso")))
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#password").length`)); err != nil || n != 0 {
		t.Errorf("the log-in page still has a password field (%d, %v)", n, err)
	}
	h.dev("/api/v2/developer/authenticate", map[string]string{"username": "bob@example.com", "password": "bob-password-1"}, http.StatusUnauthorized)

	// The SIEM got one signed line per attempt, in order.
	lines := h.awaitAtLeast(len(wants) + 1)
	if len(lines) != len(wants)+1 {
		t.Fatalf("the SIEM got %d lines, want %d:\n%s", len(lines), len(wants)+1, strings.Join(lines, "\n"))
	}
	traces := map[string]bool{}
	for i, l := range lines {
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %d: %v: %s", i, err, l)
		}
		classID, ua, req := "AUTHENTICATION_TYPE_SSO", userAgent, "/api/v2/developer/authenticate/sso/callback"
		w := want{"DISABLED", ""}
		if i < len(wants) {
			w = wants[i]
		} else {
			classID, ua, req = "AUTHENTICATION_TYPE_BASIC", "howto-e2e/1.0", "/api/v2/developer/authenticate"
		}
		principal, _ := e["principal_id"].(string)
		trace, _ := e["trace_id"].(string)
		if e["event_class_id"] != classID || e["name"] != "AUTHENTICATION_OUTCOME_"+w.outcome || e["event_product"] != "Dev-Portal" ||
			e["request"] != req || e["src"] != "127.0.0.1" || e["user_agent"] != ua || e["portal_id"] != h.portID ||
			e["success"] != (w.outcome == "SUCCESS") || principal != ids[w.email] || trace == "" || traces[trace] {
			t.Errorf("line %d, want %s %s of %q:\n%s", i, classID, w.outcome, w.email, l)
		}
		traces[trace] = true
	}
	h.verifyWithCLI()

	// Each INVALID was refused for the reason it was provoked for.
	for _, why := range []string{"state does not match", "nonce does not match", "failed to verify signature", "expected audience", "token is expired"} {
		if !strings.Contains(h.srv.log(), why) {
			t.Errorf("the server log names no refusal for %q", why)
		}
	}
}

// awaitAtLeast waits for the SIEM to hold n lines (delivery is
// asynchronous) and returns all it holds a moment later.
func (h *howto) awaitAtLeast(n int) []string {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && len(h.sinkLines()) < n {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	return h.sinkLines()
}
