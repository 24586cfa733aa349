package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/httpx"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/webform"
)

// Cookie names.
const (
	sessionCookie = "sigtrail_console"
	csrfCookie    = "sigtrail_console_csrf"
	// deviceCookie carries the browser's device token (store.PurposeDevice).
	deviceCookie = "sigtrail_console_device"
)

// Answers shown at log-in. An unknown address, a wrong password and a
// locked account share one, so nobody learns which addresses have
// accounts; a disabled account is told only after its password matched.
var (
	errInvalidCredentials = apperr.New(apperr.Unauthorized, "Invalid email or password. After repeated failures, log-in is paused for a while.")
	// errDisabled is also the answer to a password an org admin chose
	// once that org disabled the person, whatever other orgs they have: a
	// different answer would tell an org that squats an address, and
	// disables its own user, when another org adds it.
	errDisabled       = apperr.New(apperr.Unauthorized, "Your account has been disabled.")
	errNoSession      = apperr.New(apperr.Unauthorized, "Please log in.")
	errSessionExpired = apperr.New(apperr.Unauthorized, "Your session has expired. Please log in again.")
)

// unknownUserID is an id no user has (ids are UUIDv7).
const unknownUserID = "00000000-0000-0000-0000-000000000000"

// failureWorkRate is the bucket sameWorkAsFailure writes: a burst no one
// reaches, so it never refuses; only the write matters.
var failureWorkRate = store.RateLimit{Every: time.Second, Burst: 1 << 30}

// login is what a successful log-in gives the browser: its session (or,
// for a person with several orgs, the chooser that opens one) and its new
// device token.
type login struct {
	session, device string
	// choose is the chooser's secret (chooseCookie), set instead of
	// session when the person may enter more than one org.
	choose string
}

// authenticate checks an email and password against the person's identity
// (one password, one lock, whatever orgs they belong to), records the
// attempt, and opens a session on success. A failure is recorded in the
// log of every org the identity belongs to, so each org's security team
// sees attacks on its users (an unknown address: the system org's). A
// person with one enabled org gets a session of it, recorded there as
// now; with several, a chooser (chooseCookie) lets them pick the org,
// and the success is recorded in the org they pick (pageChooseOrg).
// Every path costs one argon2id check, two reads and one commit before
// the entry, so timing tells an unknown address from a wrong password or
// a locked account no more than the answer does.
//
// A browser that presents a device token of the person (deviceCookie,
// given at their last log-in on it) is not refused by the identity's lock
// and does not count towards it: its attempts are limited per device
// (LockoutPolicy.DeviceLimit), so a device that keeps failing is refused
// on its own. Everyone else counts towards the identity's lock and is
// refused by it. A stranger who knows only the address can thus lock the
// account against other strangers, never against its owner's browsers
// (OWASP's device cookies).
func (h *Handler) authenticate(ctx context.Context, r *http.Request, email, password string) (login, error) {
	// A judged attempt is counted and recorded to the end, whether or not
	// the client waits for the answer.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := h.checkRate(ctx, r); err != nil {
		return login{}, err
	}
	mu := h.lockFor(email)
	mu.Lock()
	defer mu.Unlock()

	now := h.clk.Now()
	// Read whatever address is tried, so a presented token costs an
	// unknown address the same read as a known one.
	dev, err := h.presentedDevice(ctx, r, now)
	if err != nil {
		return login{}, err
	}
	id, users, err := h.identityUsers(ctx, email)
	if err != nil {
		if !apperr.Is(err, apperr.NotFound) {
			return login{}, err
		}
		if _, err := h.hash.Check(ctx, "", password); err != nil {
			return login{}, apperr.Wrap(err, "dummy hash")
		}
		if err := h.sameWorkAsFailure(ctx, email, now); err != nil {
			return login{}, err
		}
		return login{}, h.failAuth(ctx, r, audit.OutcomeNotFound, errInvalidCredentials)
	}
	known := dev.UserID != "" && slices.ContainsFunc(users, func(u store.User) bool { return u.ID == dev.UserID && u.OrgID == dev.OrgID })
	if known {
		ok, wait, err := h.st.TakeRateToken(ctx, webform.DeviceBucket("console/device/", dev.Hash), now, h.cfg.Lockout.DeviceLimit())
		if err != nil {
			return login{}, err
		}
		if !ok {
			h.log.Warn("console: log-in refused: this known device failed too often", "identity_id", id.ID,
				"retry_in", wait.String(), "trace_id", info(r).trace)
			return login{}, h.lockedAttempt(ctx, r, email, password, users, now)
		}
		if h.cfg.Lockout.LockedIdentity(id, now) {
			h.log.Info("console: log-in attempt from a known device while the account is locked", "identity_id", id.ID,
				"trace_id", info(r).trace)
		}
	} else if h.cfg.Lockout.LockedIdentity(id, now) {
		return login{}, h.lockedAttempt(ctx, r, email, password, users, now)
	}
	ok, err := h.hash.Check(ctx, id.PasswordHash, password)
	if err != nil {
		return login{}, apperr.Wrap(err, "check password of identity %s", id.ID)
	}
	// Another replica may have locked the account during the check: the
	// account as it is now decides the lock. Everything else (which orgs
	// the password enters) is judged on the copy whose hash was checked,
	// and a password changed meanwhile fails the attempt: the verdict on
	// an old password must not be combined with the new one's orgs.
	checked := id
	if id, err = h.st.GetIdentity(ctx, id.ID); err != nil {
		return login{}, h.vanished(ctx, r, err)
	}
	if id.PasswordHash != checked.PasswordHash {
		ok = false
	}
	locked := h.cfg.Lockout.LockedIdentity(id, now)
	if locked && !known {
		return login{}, h.failAuth(ctx, r, audit.OutcomeLocked, errInvalidCredentials, users...)
	}
	if !ok {
		if known { // counted in the device's bucket, not the account's
			return login{}, h.failAuth(ctx, r, audit.OutcomeInvalidPassword, errInvalidCredentials, users...)
		}
		after, err := h.st.RecordIdentityLoginFailure(ctx, id.ID, now, h.cfg.Lockout)
		if err != nil {
			return login{}, h.vanished(ctx, r, err)
		}
		if err := h.failAuth(ctx, r, audit.OutcomeInvalidPassword, errInvalidCredentials, users...); err != errInvalidCredentials {
			return login{}, err
		}
		if h.cfg.Lockout.LockedIdentity(after, now) {
			h.log.Warn("console: account locked after repeated failures", "identity_id", id.ID,
				"until", after.LockedUntil, "trace_id", info(r).trace)
		}
		return login{}, errInvalidCredentials
	}
	// A lock stays when a known device gets in past it: it still holds
	// against everyone else.
	if !locked && (id.FailedLogins != 0 || !id.FailedSince.IsZero() || !id.LockedUntil.IsZero()) {
		if err := h.st.ClearIdentityLoginFailures(ctx, id.ID); err != nil {
			return login{}, err
		}
	}
	enabled := enterable(checked, users)
	if len(enabled) == 0 {
		return login{}, h.failAuth(ctx, r, audit.OutcomeDisabled, errDisabled, users...)
	}
	if len(enabled) == 1 {
		if err := h.recordAuth(ctx, r, audit.OutcomeSuccess, enabled[0]); err != nil {
			return login{}, err
		}
	}
	// A browser holds one session: the one it presented (its user's, or
	// whoever logged in on it before) ends before the new one opens, so
	// it cannot outlive this log-in in a copied or planted cookie.
	if err := h.endPresentedSession(ctx, r); err != nil {
		return login{}, err
	}
	// Only the person's own token is replaced in the store: another's,
	// which the cookie no longer carries, expires on its own (deleting it
	// would let whoever holds a copy end its owner's device).
	if !known {
		dev = store.UserToken{}
	}
	var l login
	g := store.LoginGrant{IdentityID: checked.ID, PasswordHash: checked.PasswordHash}
	if len(enabled) == 1 {
		var sess store.UserSession
		l.session, sess = newSession(enabled[0], now, now.Add(h.cfg.SessionTTL))
		g.Sessions = append(g.Sessions, sess)
	} else {
		var t store.UserToken
		l.choose, t = newChooser(enabled[0], now)
		g.Tokens = append(g.Tokens, t)
	}
	device, t, err := h.deviceToken(ctx, enabled[0], dev, now)
	if err != nil {
		return login{}, err
	}
	if device != "" {
		l.device = device
		g.Tokens = append(g.Tokens, t)
	}
	// The grant stands only while the checked password does: a new one
	// set meanwhile either ends it or refuses it.
	if err := h.st.CreateLoginGrant(ctx, g); apperr.Is(err, apperr.Conflict) {
		return login{}, h.failAuth(ctx, r, audit.OutcomeInvalidPassword, errInvalidCredentials, users...)
	} else if err != nil {
		return login{}, err
	}
	return l, nil
}

// identityUsers finds the identity of an address and its users in every
// org. NotFound for an address with no identity, or one whose orgs are
// all gone (as an unknown address); that path reads as much as the other.
func (h *Handler) identityUsers(ctx context.Context, email string) (store.Identity, []store.User, error) {
	id, err := h.st.GetIdentityByEmail(ctx, email)
	lookup := id.ID
	if err != nil {
		if !apperr.Is(err, apperr.NotFound) {
			return id, nil, err
		}
		lookup = unknownUserID
	}
	users, lerr := h.st.ListIdentityUsers(ctx, lookup)
	switch {
	case err != nil:
		return id, nil, err
	case lerr != nil:
		return id, nil, lerr
	case len(users) == 0:
		return id, nil, apperr.New(apperr.NotFound, "identity has no users")
	}
	return id, users, nil
}

// newSession makes a console session of u until expires (to be stored)
// and returns its secret.
func newSession(u store.User, now, expires time.Time) (string, store.UserSession) {
	secret := webform.NewSecret()
	return secret, store.UserSession{Hash: webform.SecretHash(secret), UserID: u.ID, OrgID: u.OrgID,
		CreatedAt: now.UTC(), ExpiresAt: expires.UTC()}
}

// lockedAttempt answers an attempt its lock refuses (the identity's, or a
// known device's) after the work of a wrong password: one argon2id check,
// a read and a commit.
func (h *Handler) lockedAttempt(ctx context.Context, r *http.Request, email, password string, users []store.User, now time.Time) error {
	if _, err := h.hash.Check(ctx, "", password); err != nil {
		return apperr.Wrap(err, "dummy hash")
	}
	if err := h.sameWorkAsFailure(ctx, email, now); err != nil {
		return err
	}
	return h.failAuth(ctx, r, audit.OutcomeLocked, errInvalidCredentials, users...)
}

// presentedDevice is the unexpired device token the request's cookie
// names, whoever's it is; the zero token when there is none.
func (h *Handler) presentedDevice(ctx context.Context, r *http.Request, now time.Time) (store.UserToken, error) {
	secret := webform.DeviceSecret(r, deviceCookie)
	if secret == "" {
		return store.UserToken{}, nil
	}
	t, err := h.st.GetUserToken(ctx, webform.SecretHash(secret))
	switch {
	case apperr.Is(err, apperr.NotFound):
		return store.UserToken{}, nil
	case err != nil:
		return store.UserToken{}, err
	case t.Purpose != store.PurposeDevice || !now.Before(t.ExpiresAt):
		return store.UserToken{}, nil
	}
	return t, nil
}

// newDevice gives the browser of u's person a new device token (kept as
// u's), replacing the person's token it presented (the zero token for
// none): a browser holds one, and a copy of the old one stops working once
// its owner logs in again. A browser new to the person gets one within
// webform.DeviceIssueLimit, else none ("").
func (h *Handler) newDevice(ctx context.Context, u store.User, presented store.UserToken, now time.Time) (string, error) {
	secret, t, err := h.deviceToken(ctx, u, presented, now)
	if err != nil || secret == "" {
		return "", err
	}
	return secret, h.st.CreateUserToken(ctx, t)
}

// deviceToken is newDevice but for storing the new token, which it
// returns with its secret (none: "").
func (h *Handler) deviceToken(ctx context.Context, u store.User, presented store.UserToken, now time.Time) (string, store.UserToken, error) {
	if presented.Hash != nil {
		if _, err := h.st.ConsumeUserToken(ctx, presented.Hash); err != nil && !apperr.Is(err, apperr.NotFound) {
			return "", store.UserToken{}, err
		}
	} else {
		ok, _, err := h.st.TakeRateToken(ctx, "console/device-issue/"+u.IdentityID, now, webform.DeviceIssueLimit)
		if err != nil {
			return "", store.UserToken{}, err
		}
		if !ok {
			h.log.Info("console: no device cookie given: the user's new devices are over their limit", "user_id", u.ID, "org_id", u.OrgID)
			return "", store.UserToken{}, nil
		}
	}
	secret := webform.NewSecret()
	return secret, store.UserToken{Hash: webform.SecretHash(secret), UserID: u.ID, OrgID: u.OrgID,
		Purpose: store.PurposeDevice, CreatedAt: now.UTC(), ExpiresAt: now.UTC().Add(webform.DeviceTTL)}, nil
}

// endPresentedSession deletes the session whose cookie came with r, if
// any.
func (h *Handler) endPresentedSession(ctx context.Context, r *http.Request) error {
	secret := webform.CookieValue(r, sessionCookie)
	if secret == "" || len(secret) > 128 {
		return nil
	}
	if err := h.st.DeleteUserSession(ctx, webform.SecretHash(secret)); err != nil && !apperr.Is(err, apperr.NotFound) {
		return err
	}
	return nil
}

// sameWorkAsFailure does for an unknown address or a locked account the
// store work a wrong password costs (re-reading the account, then counting
// the failure in one commit): a read of an id no one has and a write to a
// rate bucket keyed by the hashed address.
func (h *Handler) sameWorkAsFailure(ctx context.Context, email string, now time.Time) error {
	if _, err := h.st.GetIdentity(ctx, unknownUserID); err != nil && !apperr.Is(err, apperr.NotFound) {
		return err
	}
	sum := sha256.Sum256([]byte(strings.ToLower(email)))
	_, _, err := h.st.TakeRateToken(ctx, "console/unknown-user/"+hex.EncodeToString(sum[:16]), now, failureWorkRate)
	return err
}

// vanished answers an attempt whose account was deleted while it was
// judged as one on an unknown address; other errors pass through.
func (h *Handler) vanished(ctx context.Context, r *http.Request, err error) error {
	if !apperr.Is(err, apperr.NotFound) {
		return err
	}
	return h.failAuth(ctx, r, audit.OutcomeNotFound, errInvalidCredentials)
}

// checkRate takes a token of the client's log-in bucket: an IPv4 address,
// or an IPv6 client's /64 (httpx.RateKey), as the Dev Portal counts. A
// store failure refuses the attempt: a limit that guards passwords must
// not open when it cannot count.
func (h *Handler) checkRate(ctx context.Context, r *http.Request) error {
	l := h.cfg.RateLimit
	if l.Burst <= 0 || l.Every <= 0 {
		return nil
	}
	client := httpx.ClientIP(r, h.cfg.TrustedProxies)
	ok, wait, err := h.st.TakeRateToken(ctx, "console/auth/"+httpx.RateKey(client), h.clk.Now(), l)
	switch {
	case err != nil:
		return err
	case ok:
		return nil
	}
	h.log.Warn("console: log-in attempt rate limited", "client", client, "trace_id", info(r).trace, "retry_in", wait.String())
	return apperr.New(apperr.RateLimited, "Too many attempts; try again later.")
}

// failAuth records a failed attempt in the log of each of users' orgs (no
// users: the system org's) and returns the answer for the user, unless
// recording failed: then nothing may be answered but an error.
func (h *Handler) failAuth(ctx context.Context, r *http.Request, o audit.Outcome, answer error, users ...store.User) error {
	if err := h.recordAuth(ctx, r, o, users...); err != nil {
		return err
	}
	return answer
}

// recordAuth appends one authentication entry per user, each in its org's
// log (no users: one in the system org's), durably and in one commit,
// before the answer: Kong's record of a log-in to its web application.
func (h *Handler) recordAuth(ctx context.Context, r *http.Request, o audit.Outcome, users ...store.User) error {
	if len(users) == 0 {
		users = []store.User{{}}
	}
	es := make([]audit.Entry, len(users))
	for i, u := range users {
		e := h.entry(r, audit.KindAuthentication, u)
		e.ClassID = audit.AuthTypeBasic
		e.Name = string(o)
		e.Request = r.URL.Path
		es[i] = e
	}
	return h.recordEntries(ctx, es...)
}

// recordLogout appends the access entry of a log-out, naming the user.
func (h *Handler) recordLogout(ctx context.Context, r *http.Request, u store.User, status int) error {
	e := h.entry(r, audit.KindAccess, u)
	e.ClassID = audit.AccessClassGateway
	e.Name = audit.AccessName
	e.Request = r.URL.Path
	e.Act = r.Method
	e.Status = status
	return h.recordEntries(ctx, e)
}

func (h *Handler) entry(r *http.Request, k audit.Kind, u store.User) audit.Entry {
	return audit.Entry{
		Kind:        k,
		Time:        h.clk.Now().UTC(),
		Product:     audit.ProductKonnect,
		Src:         httpx.ClientIP(r, h.cfg.TrustedProxies),
		OrgID:       u.OrgID,
		PrincipalID: u.ID,
		TraceID:     info(r).trace,
		UserAgent:   r.UserAgent(),
	}
}

// recordEntries appends entries, each to its org's stream (no org: the
// system org's), in one commit.
func (h *Handler) recordEntries(ctx context.Context, es ...audit.Entry) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	batch := make([]store.NewEntry, len(es))
	for i, e := range es {
		if e.OrgID == "" {
			id, err := h.systemOrgID(ctx)
			if err != nil {
				return apperr.Wrap(err, "system org")
			}
			e.OrgID = id
		}
		e.CapClientText()
		batch[i] = store.NewEntry{Stream: store.StreamID(e.OrgID), Entry: e}
	}
	if _, err := h.rec.Record(ctx, batch); err != nil {
		return apperr.Wrap(err, "record console %s entry", es[0].Kind)
	}
	return nil
}

// currentUser resolves the session cookie to its user. An expired session
// is a failed authentication (TOKEN_EXPIRED), as for the Dev Portal.
func (h *Handler) currentUser(ctx context.Context, r *http.Request) (store.User, error) {
	secret := webform.CookieValue(r, sessionCookie)
	if secret == "" || len(secret) > 128 {
		return store.User{}, errNoSession
	}
	sess, err := h.st.GetUserSession(ctx, webform.SecretHash(secret))
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return store.User{}, errNoSession
		}
		return store.User{}, err
	}
	u, err := h.st.GetUser(ctx, sess.OrgID, sess.UserID)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return store.User{}, errNoSession
		}
		return store.User{}, err
	}
	if !h.clk.Now().Before(sess.ExpiresAt) {
		_ = h.st.DeleteUserSession(ctx, sess.Hash)
		return store.User{}, h.failAuth(ctx, r, audit.OutcomeTokenExpired, errSessionExpired, u)
	}
	if u.Disabled {
		return store.User{}, errNoSession
	}
	return u, nil
}

// setSessionCookie gives the browser its new session, lasting ttl, with a
// new form token: a form token is never carried from one session into
// another.
func (h *Handler) setSessionCookie(w http.ResponseWriter, r *http.Request, secret string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/", MaxAge: max(int(ttl.Seconds()), 1),
		HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteStrictMode})
	webform.RotateCSRF(w, r, csrfCookie, h.secure(r))
}

// setDeviceCookie gives the browser its device token; "" sets nothing.
func (h *Handler) setDeviceCookie(w http.ResponseWriter, r *http.Request, secret string) {
	if secret != "" {
		http.SetCookie(w, webform.DeviceCookie(deviceCookie, secret, h.secure(r)))
	}
}

// clearSessionCookie ends the browser's session cookie (a log-out, an
// expired session) and gives it a new form token.
func (h *Handler) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteStrictMode})
	webform.RotateCSRF(w, r, csrfCookie, h.secure(r))
}
