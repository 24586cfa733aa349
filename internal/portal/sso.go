package portal

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/uuid"
	"golang.org/x/oauth2"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/netguard"
	"github.com/sigtrail/sigtrail/internal/store"
)

// Single sign-on: OpenID Connect's authorization code flow with PKCE.
//
// GET ssoStartPath sends the browser to the portal's identity provider
// with a fresh state, nonce and PKCE verifier, kept in a short-lived
// HttpOnly cookie bound to the callback path (no server-side state, so any
// replica can take the callback). The callback checks the state against
// the cookie, redeems the code with the verifier, verifies the ID token
// against the issuer's published keys (signature, issuer, audience,
// expiry on the injected clock) and its nonce, then matches the developer
// by the verified email, or signs them up when the portal allows it.
// Every callback is one AUTHENTICATION_TYPE_SSO entry in the portal's log.
const (
	ssoStartPath    = "/api/v2/developer/authenticate/sso"
	ssoCallbackPath = ssoStartPath + "/callback"
	ssoCookie       = "portalsso"
	ssoFlowTTL      = 10 * time.Minute
	// providerTTL bounds how long a discovered provider (and its cached
	// keys, which go-oidc refreshes on an unknown key id) is reused.
	providerTTL = time.Hour
)

// Answers shown to developers at the end of a failed SSO log-in.
var (
	errSSOOff      = apperr.InvalidField("query", "identity_provider", "invalid", "single sign-on is not enabled on this portal")
	errSSOInvalid  = apperr.New(apperr.Unauthorized, "Single sign-on failed. Please try again.")
	errSSONoAcct   = apperr.New(apperr.Unauthorized, "There is no account for your email address on this portal. Ask an administrator for one.")
	errSSOUnverify = apperr.New(apperr.Unauthorized, "Your identity provider did not confirm your email address.")
	errIdPDown     = apperr.New(apperr.Unavailable, "The identity provider could not be reached; try again shortly")
	errBasicOff    = apperr.New(apperr.Unauthorized, "Log-in with email and password is turned off on this portal; use single sign-on.")
)

// oidcClients caches discovered providers per issuer, and holds the HTTP
// client every discovery, key and token request goes through: the dial
// guard of destinations refuses loopback and private addresses unless the
// development flag lifts it.
type oidcClients struct {
	http *http.Client
	mu   sync.Mutex
	byIs map[string]cachedProvider
}

type cachedProvider struct {
	p  *oidc.Provider
	at time.Time
}

func newOIDCClients(insecure bool) *oidcClients {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !insecure {
		dialer.Control = netguard.DialControl
	}
	t := &http.Transport{
		Proxy:               nil, // a proxy would have the guard check the proxy's address
		DialContext:         dialer.DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
	}
	c := &http.Client{Transport: t, Timeout: 15 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			if req.URL.Scheme != "https" && !insecure {
				return errors.New("redirect away from https")
			}
			return nil
		}}
	return &oidcClients{http: c, byIs: map[string]cachedProvider{}}
}

func (o *oidcClients) provider(ctx context.Context, issuer string, now time.Time) (*oidc.Provider, error) {
	o.mu.Lock()
	c, ok := o.byIs[issuer]
	o.mu.Unlock()
	if ok && now.Sub(c.at) < providerTTL {
		return c.p, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, o.http), issuer)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	o.byIs[issuer] = cachedProvider{p: p, at: now}
	o.mu.Unlock()
	return p, nil
}

// ssoProvider returns the portal's enabled OIDC provider.
func (s *server) ssoProvider(ctx context.Context, portalID string) (store.IdentityProvider, bool, error) {
	all, err := s.st.ListIdentityProviders(ctx, portalID)
	if err != nil {
		return store.IdentityProvider{}, false, err
	}
	for _, p := range all {
		if p.Type == store.IdPTypeOIDC && p.Enabled {
			return p, true, nil
		}
	}
	return store.IdentityProvider{}, false, nil
}

func (s *server) oauthConfig(ri reqInfo, idp store.IdentityProvider, p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: idp.ClientID, ClientSecret: idp.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: s.baseURL(ri) + ssoCallbackPath, Scopes: idp.Scopes}
}

// ssoStart sends the browser to the identity provider.
func (s *server) ssoStart(w http.ResponseWriter, r *http.Request) {
	err := func() error {
		ri := info(r)
		if !ri.portal.AuthenticationEnabled {
			return errSignInDisabled
		}
		// Not rate limited: the start judges nothing; the callback, where
		// an attempt is judged, is.
		idp, ok, err := s.ssoProvider(r.Context(), ri.portal.ID)
		if err != nil {
			return err
		}
		if !ok {
			return errSSOOff
		}
		p, err := s.oidc.provider(r.Context(), idp.IssuerURL, s.clk.Now())
		if err != nil {
			s.log.Warn("oidc discovery", "trace_id", ri.trace, "issuer", idp.IssuerURL, "err", err)
			return errIdPDown
		}
		state, nonce, verifier := newSecret(), newSecret(), oauth2.GenerateVerifier()
		s.setCookie(w, r, ssoCookie, strings.Join([]string{state, nonce, verifier, idp.ID}, "."), ssoStartPath, http.SameSiteLaxMode, s.clk.Now().Add(ssoFlowTTL))
		http.Redirect(w, r, s.oauthConfig(ri, idp, p).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
		return nil
	}()
	if err != nil {
		s.ssoFail(w, r, err)
	}
}

// ssoFlow is what the start left in the browser's cookie.
type ssoFlow struct{ state, nonce, verifier, idpID string }

func readSSOFlow(r *http.Request) (ssoFlow, bool) {
	parts := strings.Split(cookieValue(r, ssoCookie), ".")
	if len(parts) != 4 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return ssoFlow{}, false
	}
	return ssoFlow{parts[0], parts[1], parts[2], parts[3]}, true
}

// ssoIdentity is what a verified ID token (and the user info, for claims
// the token lacks) says about the developer.
type ssoIdentity struct {
	subject, email, name string
	emailVerified        bool
	groups               []string
}

// ssoCallback ends the flow: one audited attempt.
func (s *server) ssoCallback(w http.ResponseWriter, r *http.Request) {
	// The browser has come back: the attempt is judged and recorded to the
	// end, whether or not it waits for the answer.
	ctx, cancel := detached(r.Context())
	defer cancel()
	s.clearCookie(w, r, ssoCookie, ssoStartPath, http.SameSiteLaxMode) // a flow is used once
	ss, err := s.ssoLogin(ctx, r)
	if err != nil {
		s.ssoFail(w, r, err)
		return
	}
	s.setSessionCookies(w, r, ss)
	http.Redirect(w, r, "/profile", http.StatusSeeOther)
}

func (s *server) ssoLogin(ctx context.Context, r *http.Request) (session, error) {
	ri := info(r)
	if !ri.portal.AuthenticationEnabled {
		return session{}, errSignInDisabled
	}
	if err := s.checkRate(ctx, r, rateAuth); err != nil {
		return session{}, err
	}
	invalid := func(why string, args ...any) error {
		s.log.Info("sso attempt refused", "trace_id", ri.trace, "portal_id", ri.portal.ID, "why", fmt.Sprintf(why, args...))
		return s.failSSO(ctx, r, audit.OutcomeInvalid, "", errSSOInvalid)
	}
	q := r.URL.Query()
	flow, ok := readSSOFlow(r)
	switch {
	case !ok:
		return session{}, invalid("no flow cookie")
	case subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(flow.state)) != 1:
		return session{}, invalid("state does not match")
	case q.Get("error") != "":
		return session{}, invalid("identity provider answered %q", q.Get("error"))
	case q.Get("code") == "":
		return session{}, invalid("no code")
	}
	idp, ok, err := s.ssoProvider(ctx, ri.portal.ID)
	if err != nil {
		return session{}, err
	}
	if !ok || idp.ID != flow.idpID {
		return session{}, invalid("the flow's provider is no longer the portal's")
	}
	p, err := s.oidc.provider(ctx, idp.IssuerURL, s.clk.Now())
	if err != nil {
		s.log.Warn("oidc discovery", "trace_id", ri.trace, "issuer", idp.IssuerURL, "err", err)
		return session{}, errIdPDown
	}
	cctx := oidc.ClientContext(ctx, s.oidc.http)
	cfg := s.oauthConfig(ri, idp, p)
	tok, err := cfg.Exchange(cctx, q.Get("code"), oauth2.VerifierOption(flow.verifier))
	if err != nil {
		return session{}, invalid("code exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return session{}, invalid("no id_token")
	}
	idt, err := p.VerifierContext(cctx, &oidc.Config{ClientID: idp.ClientID, Now: s.clk.Now}).Verify(cctx, raw)
	if err != nil {
		return session{}, invalid("id token: %v", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(flow.nonce)) != 1 {
		return session{}, invalid("nonce does not match")
	}
	id, err := s.ssoClaims(cctx, idp, p, cfg, tok, idt)
	if err != nil {
		return session{}, invalid("claims: %v", err)
	}
	email, err := checkEmail("email", id.email)
	if err != nil || !id.emailVerified {
		s.log.Info("sso attempt refused", "trace_id", ri.trace, "portal_id", ri.portal.ID, "why", "email missing or not verified")
		return session{}, s.failSSO(ctx, r, audit.OutcomeInvalid, "", errSSOUnverify)
	}
	return s.ssoDeveloper(ctx, r, email, id)
}

// ssoClaims reads the mapped claims from the ID token and, for those it
// lacks, from the user info endpoint (of the same subject).
func (s *server) ssoClaims(ctx context.Context, idp store.IdentityProvider, p *oidc.Provider, cfg *oauth2.Config, tok *oauth2.Token, idt *oidc.IDToken) (ssoIdentity, error) {
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return ssoIdentity{}, err
	}
	if _, ok := claims[idp.ClaimEmail]; !ok && p.UserInfoEndpoint() != "" {
		ui, err := p.UserInfo(ctx, cfg.TokenSource(ctx, tok))
		if err != nil {
			return ssoIdentity{}, fmt.Errorf("user info: %w", err)
		}
		if ui.Subject != idt.Subject {
			return ssoIdentity{}, errors.New("user info is of another subject")
		}
		extra := map[string]any{}
		if err := ui.Claims(&extra); err != nil {
			return ssoIdentity{}, err
		}
		for k, v := range extra {
			if _, ok := claims[k]; !ok {
				claims[k] = v
			}
		}
	}
	id := ssoIdentity{subject: idt.Subject}
	id.email, _ = claims[idp.ClaimEmail].(string)
	id.name, _ = claims[idp.ClaimName].(string)
	switch v := claims["email_verified"].(type) {
	case bool:
		id.emailVerified = v
	case string: // some providers send "true"
		id.emailVerified = v == "true"
	}
	switch g := claims[idp.ClaimGroups].(type) {
	case string:
		id.groups = []string{g}
	case []any:
		for _, x := range g {
			if s, ok := x.(string); ok {
				id.groups = append(id.groups, s)
			}
		}
	}
	return id, nil
}

// ssoDeveloper matches (or signs up) the developer of a verified identity
// and opens a session when the account is approved.
func (s *server) ssoDeveloper(ctx context.Context, r *http.Request, email string, id ssoIdentity) (session, error) {
	ri := info(r)
	settings, err := s.st.GetAuthSettings(ctx, ri.portal.ID)
	if err != nil {
		return session{}, err
	}
	mu := s.lockFor(ri.portal.ID, email)
	mu.Lock()
	defer mu.Unlock()
	d, err := s.st.GetDeveloperByEmail(ctx, ri.portal.ID, email)
	switch {
	case apperr.Is(err, apperr.NotFound) && !settings.SSOSignUpEnabled:
		return session{}, s.failSSO(ctx, r, audit.OutcomeNotFound, "", errSSONoAcct)
	case apperr.Is(err, apperr.NotFound):
		if d, err = s.ssoSignUp(ctx, ri, email, id); err != nil {
			return session{}, err
		}
	case err != nil:
		return session{}, err
	}
	switch d.Status {
	case store.DeveloperApproved:
	case store.DeveloperPending:
		return session{}, s.failSSO(ctx, r, audit.OutcomeDisabled, d.ID, errPending)
	default:
		return session{}, s.failSSO(ctx, r, audit.OutcomeDisabled, d.ID, errDisabled)
	}
	if settings.IDPMappingEnabled {
		if err := s.mapTeams(ctx, ri.portal.ID, d.ID, id.groups); err != nil {
			return session{}, err
		}
	}
	if err := s.recordAs(ctx, r, audit.AuthTypeSSO, audit.OutcomeSuccess, d.ID); err != nil {
		return session{}, err
	}
	return s.openSession(ctx, d)
}

// ssoSignUp creates the developer of a first SSO log-in: its email is
// verified by the IdP; approval follows the portal's auto-approve setting.
func (s *server) ssoSignUp(ctx context.Context, ri reqInfo, email string, id ssoIdentity) (store.Developer, error) {
	devID, err := uuid.NewV7()
	if err != nil {
		return store.Developer{}, apperr.Wrap(err, "developer id")
	}
	name := oneLine(id.name)
	if n, err := checkFullName(name); err == nil {
		name = n
	} else {
		name = email[:strings.IndexByte(email, '@')]
	}
	now := s.clk.Now().UTC()
	status := store.DeveloperPending
	if ri.portal.AutoApproveDevelopers {
		status = store.DeveloperApproved
	}
	d := store.Developer{ID: devID.String(), PortalID: ri.portal.ID, OrgID: ri.portal.OrgID, Email: email, FullName: name,
		Status: status, EmailVerified: true, CreatedAt: now, UpdatedAt: now}
	if err := s.st.CreateDeveloper(ctx, d); err != nil {
		if apperr.Is(err, apperr.Conflict) { // signed up a moment ago elsewhere
			return s.st.GetDeveloperByEmail(ctx, ri.portal.ID, email)
		}
		return store.Developer{}, err
	}
	return d, nil
}

// mapTeams makes the teams mapped from the developer's IdP groups their
// only teams.
func (s *server) mapTeams(ctx context.Context, portalID, devID string, groups []string) error {
	idp, ok, err := s.ssoProvider(ctx, portalID)
	if err != nil || !ok {
		return err
	}
	mappings, err := s.st.ListTeamGroupMappings(ctx, portalID, idp.ID)
	if err != nil {
		return err
	}
	in := map[string]bool{}
	for _, g := range groups {
		in[g] = true
	}
	var teams []string
	for _, m := range mappings {
		if in[m.Group] {
			teams = append(teams, m.TeamID)
		}
	}
	return s.st.SetDeveloperTeams(ctx, portalID, devID, teams, s.clk.Now().UTC())
}

// failSSO records a failed SSO attempt and returns the answer for the user,
// unless recording failed.
func (s *server) failSSO(ctx context.Context, r *http.Request, o audit.Outcome, principal string, answer error) error {
	if err := s.recordAs(ctx, r, audit.AuthTypeSSO, o, principal); err != nil {
		return err
	}
	return answer
}

// ssoFail shows a failed SSO step on the log-in page, or answers it as
// problem+json to a client that did not ask for a page (Kong's
// authenticate-sso operation).
func (s *server) ssoFail(w http.ResponseWriter, r *http.Request, err error) {
	if !strings.Contains(r.Header.Get("Accept"), "text/html") {
		s.apiError(w, r, err)
		return
	}
	d := s.newPage(w, r, "Log in")
	status := s.showError(r, &d, err)
	if errors.Is(err, errSSOOff) {
		d.FieldErrors, d.Error = map[string]string{}, "Single sign-on is not enabled on this portal."
	}
	if oerr := s.loginOptions(r, &d); oerr != nil {
		s.log.Error("login options", "trace_id", info(r).trace, "err", oerr)
	}
	s.render(w, r, status, "login", d)
}

// loginOptions says which ways in the log-in page offers.
func (s *server) loginOptions(r *http.Request, d *pageData) error {
	p := info(r).portal
	_, sso, err := s.ssoProvider(r.Context(), p.ID)
	if err != nil {
		return err
	}
	a, err := s.st.GetAuthSettings(r.Context(), p.ID)
	if err != nil {
		return err
	}
	d.SSO, d.BasicOff = sso, !a.BasicAuthEnabled
	return nil
}

// basicAllowed refuses a password log-in on a portal that turned basic
// authentication off; the refusal is an attempt, recorded as DISABLED.
func (s *server) basicAllowed(ctx context.Context, r *http.Request) error {
	a, err := s.st.GetAuthSettings(ctx, info(r).portal.ID)
	if err != nil {
		return err
	}
	if a.BasicAuthEnabled {
		return nil
	}
	return s.failAuth(ctx, r, audit.OutcomeDisabled, "", errBasicOff)
}
