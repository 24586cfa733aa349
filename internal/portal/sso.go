package portal

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/portal/oidcrp"
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

// rpProvider is the relying party's view of a provider.
func rpProvider(idp store.IdentityProvider) oidcrp.Provider {
	return oidcrp.Provider{Issuer: idp.IssuerURL, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret, Scopes: idp.Scopes,
		ClaimName: idp.ClaimName, ClaimEmail: idp.ClaimEmail, ClaimGroups: idp.ClaimGroups}
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
		state, nonce, verifier := newSecret(), newSecret(), oidcrp.NewVerifier()
		to, err := s.rp.AuthCodeURL(r.Context(), rpProvider(idp), s.baseURL(ri)+ssoCallbackPath, state, nonce, verifier)
		if err != nil {
			s.log.Warn("oidc discovery", "trace_id", ri.trace, "issuer", idp.IssuerURL, "err", idpError(err))
			return errIdPDown
		}
		s.setCookie(w, r, ssoCookie, strings.Join([]string{state, nonce, verifier, idp.ID}, "."), ssoStartPath, http.SameSiteLaxMode, s.clk.Now().Add(ssoFlowTTL))
		http.Redirect(w, r, to, http.StatusFound)
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
	s.startSession(w, r, ss)
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
	id, err := s.rp.Redeem(ctx, rpProvider(idp), s.baseURL(ri)+ssoCallbackPath, q.Get("code"), flow.verifier, flow.nonce)
	switch {
	case errors.Is(err, oidcrp.ErrUnreachable):
		s.log.Warn("oidc discovery", "trace_id", ri.trace, "issuer", idp.IssuerURL, "err", idpError(err))
		return session{}, errIdPDown
	case err != nil:
		return session{}, invalid("%s", idpError(err))
	}
	email, err := checkEmail("email", id.Email)
	if err != nil || !id.EmailVerified {
		s.log.Info("sso attempt refused", "trace_id", ri.trace, "portal_id", ri.portal.ID, "why", "email missing or not verified")
		return session{}, s.failSSO(ctx, r, audit.OutcomeInvalid, "", errSSOUnverify)
	}
	return s.ssoDeveloper(ctx, r, email, id)
}

// ssoDeveloper matches (or signs up) the developer of a verified identity
// and opens a session when the account is approved.
func (s *server) ssoDeveloper(ctx context.Context, r *http.Request, email string, id oidcrp.Identity) (session, error) {
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
		if err := s.mapTeams(ctx, ri.portal.ID, d.ID, id.Groups); err != nil {
			return session{}, err
		}
	}
	if err := s.recordAs(ctx, r, audit.AuthTypeSSO, audit.OutcomeSuccess, d.ID); err != nil {
		return session{}, err
	}
	return s.openLoginSession(ctx, r, d)
}

// ssoSignUp creates the developer of a first SSO log-in: its email is
// verified by the IdP; approval follows the portal's auto-approve setting.
func (s *server) ssoSignUp(ctx context.Context, ri reqInfo, email string, id oidcrp.Identity) (store.Developer, error) {
	devID, err := uuid.NewV7()
	if err != nil {
		return store.Developer{}, apperr.Wrap(err, "developer id")
	}
	name := oneLine(id.Name)
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

// maxIdPErrorLog caps the text of a provider's error in the log.
const maxIdPErrorLog = 512

// idpError is an error of the relying party as the log shows it: go-oidc
// puts a provider's error answer in its error, and anyone can make the
// server ask the provider again (the start is not rate limited), so the
// provider's text is cut short rather than copied into the log whole.
func idpError(err error) string {
	msg := err.Error()
	if len(msg) <= maxIdPErrorLog {
		return msg
	}
	cut := maxIdPErrorLog
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes more)", msg[:cut], len(msg)-cut)
}

// ssoRP is what single sign-on needs of the relying party (oidcrp.Client).
type ssoRP interface {
	AuthCodeURL(ctx context.Context, p oidcrp.Provider, redirectURL, state, nonce, verifier string) (string, error)
	Redeem(ctx context.Context, p oidcrp.Provider, redirectURL, code, verifier, nonce string) (oidcrp.Identity, error)
}
