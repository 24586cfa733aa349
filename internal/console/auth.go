package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
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
	errDisabled           = apperr.New(apperr.Unauthorized, "Your account has been disabled.")
	errNoSession          = apperr.New(apperr.Unauthorized, "Please log in.")
	errSessionExpired     = apperr.New(apperr.Unauthorized, "Your session has expired. Please log in again.")
)

// unknownUserID is an id no user has (ids are UUIDv7).
const unknownUserID = "00000000-0000-0000-0000-000000000000"

// failureWorkRate is the bucket sameWorkAsFailure writes: a burst no one
// reaches, so it never refuses; only the write matters.
var failureWorkRate = store.RateLimit{Every: time.Second, Burst: 1 << 30}

// login is what a successful log-in gives the browser: its session and
// its new device token.
type login struct {
	session, device string
}

// authenticate checks an email and password, records the attempt in the
// user's org log (an unknown address: the system org's), and opens a
// session on success. Every path costs one argon2id check, one read and
// one commit before the entry, so timing tells an unknown address from a
// wrong password or a locked account no more than the answer does.
//
// A browser that presents its user's device token (deviceCookie, given at
// the user's last log-in on it) is not refused by the account's lock and
// does not count towards it: its attempts are limited per device
// (LockoutPolicy.DeviceLimit), so a device that keeps failing is refused
// on its own. Everyone else counts towards the account's lock and is
// refused by it. A stranger who knows only the address can thus lock the
// account against other strangers, never against its owner's browsers
// (OWASP's device cookies).
func (h *Handler) authenticate(ctx context.Context, r *http.Request, email, password string) (login, store.User, error) {
	// A judged attempt is counted and recorded to the end, whether or not
	// the client waits for the answer.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := h.checkRate(ctx, r); err != nil {
		return login{}, store.User{}, err
	}
	mu := h.lockFor(email)
	mu.Lock()
	defer mu.Unlock()

	now := h.clk.Now()
	// Read whatever address is tried, so a presented token costs an
	// unknown address the same read as a known one.
	dev, err := h.presentedDevice(ctx, r, now)
	if err != nil {
		return login{}, store.User{}, err
	}
	u, err := h.st.GetUserByEmail(ctx, email)
	if err != nil {
		if !apperr.Is(err, apperr.NotFound) {
			return login{}, u, err
		}
		if _, err := h.hash.Check(ctx, "", password); err != nil {
			return login{}, u, apperr.Wrap(err, "dummy hash")
		}
		if err := h.sameWorkAsFailure(ctx, email, now); err != nil {
			return login{}, u, err
		}
		return login{}, u, h.failAuth(ctx, r, audit.OutcomeNotFound, store.User{}, errInvalidCredentials)
	}
	known := dev.UserID != "" && dev.UserID == u.ID && dev.OrgID == u.OrgID
	if known {
		ok, wait, err := h.st.TakeRateToken(ctx, webform.DeviceBucket("console/device/", dev.Hash), now, h.cfg.Lockout.DeviceLimit())
		if err != nil {
			return login{}, u, err
		}
		if !ok {
			h.log.Warn("console: log-in refused: this known device failed too often", "user_id", u.ID, "org_id", u.OrgID,
				"retry_in", wait.String(), "trace_id", info(r).trace)
			return login{}, u, h.lockedAttempt(ctx, r, email, password, u, now)
		}
		if h.cfg.Lockout.LockedUser(u, now) {
			h.log.Info("console: log-in attempt from a known device while the account is locked", "user_id", u.ID,
				"org_id", u.OrgID, "trace_id", info(r).trace)
		}
	} else if h.cfg.Lockout.LockedUser(u, now) {
		return login{}, u, h.lockedAttempt(ctx, r, email, password, u, now)
	}
	ok, err := h.hash.Check(ctx, u.PasswordHash, password)
	if err != nil {
		return login{}, u, apperr.Wrap(err, "check password of user %s", u.ID)
	}
	// Another replica may have locked the account during the check: the
	// account as it is now decides.
	if u, err = h.st.GetUser(ctx, u.OrgID, u.ID); err != nil {
		return login{}, u, h.vanished(ctx, r, err)
	}
	locked := h.cfg.Lockout.LockedUser(u, now)
	if locked && !known {
		return login{}, u, h.failAuth(ctx, r, audit.OutcomeLocked, u, errInvalidCredentials)
	}
	if !ok {
		if known { // counted in the device's bucket, not the account's
			return login{}, u, h.failAuth(ctx, r, audit.OutcomeInvalidPassword, u, errInvalidCredentials)
		}
		after, err := h.st.RecordUserLoginFailure(ctx, u.ID, now, h.cfg.Lockout)
		if err != nil {
			return login{}, u, h.vanished(ctx, r, err)
		}
		if err := h.failAuth(ctx, r, audit.OutcomeInvalidPassword, u, errInvalidCredentials); err != errInvalidCredentials {
			return login{}, u, err
		}
		if h.cfg.Lockout.LockedUser(after, now) {
			h.log.Warn("console: account locked after repeated failures", "user_id", u.ID, "org_id", u.OrgID,
				"until", after.LockedUntil, "trace_id", info(r).trace)
		}
		return login{}, u, errInvalidCredentials
	}
	// A lock stays when a known device gets in past it: it still holds
	// against everyone else.
	if !locked && (u.FailedLogins != 0 || !u.FailedSince.IsZero() || !u.LockedUntil.IsZero()) {
		if err := h.st.ClearUserLoginFailures(ctx, u.ID); err != nil {
			return login{}, u, err
		}
	}
	if u.Disabled {
		return login{}, u, h.failAuth(ctx, r, audit.OutcomeDisabled, u, errDisabled)
	}
	if err := h.recordAuth(ctx, r, audit.OutcomeSuccess, u); err != nil {
		return login{}, u, err
	}
	// A browser holds one session: the one it presented (its user's, or
	// whoever logged in on it before) ends before the new one opens, so
	// it cannot outlive this log-in in a copied or planted cookie.
	if err := h.endPresentedSession(ctx, r); err != nil {
		return login{}, u, err
	}
	var l login
	l.session = webform.NewSecret()
	err = h.st.CreateUserSession(ctx, store.UserSession{Hash: webform.SecretHash(l.session), UserID: u.ID, OrgID: u.OrgID,
		CreatedAt: now.UTC(), ExpiresAt: now.UTC().Add(h.cfg.SessionTTL)})
	if err != nil {
		return login{}, u, err
	}
	// Only the user's own token is replaced in the store: another's, which
	// the cookie no longer carries, expires on its own (deleting it would
	// let whoever holds a copy end its owner's device).
	if !known {
		dev = store.UserToken{}
	}
	if l.device, err = h.newDevice(ctx, u, dev, now); err != nil {
		return login{}, u, err
	}
	return l, u, nil
}

// lockedAttempt answers an attempt its lock refuses (the account's, or a
// known device's) after the work of a wrong password: one argon2id check,
// a read and a commit.
func (h *Handler) lockedAttempt(ctx context.Context, r *http.Request, email, password string, u store.User, now time.Time) error {
	if _, err := h.hash.Check(ctx, "", password); err != nil {
		return apperr.Wrap(err, "dummy hash")
	}
	if err := h.sameWorkAsFailure(ctx, email, now); err != nil {
		return err
	}
	return h.failAuth(ctx, r, audit.OutcomeLocked, u, errInvalidCredentials)
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

// newDevice gives u's browser a new device token, replacing u's token it
// presented (the zero token for none): a browser holds one, and a copy of
// the old one stops working once its owner logs in again. A browser new to
// u gets one within webform.DeviceIssueLimit, else none ("").
func (h *Handler) newDevice(ctx context.Context, u store.User, presented store.UserToken, now time.Time) (string, error) {
	if presented.Hash != nil {
		if _, err := h.st.ConsumeUserToken(ctx, presented.Hash); err != nil && !apperr.Is(err, apperr.NotFound) {
			return "", err
		}
	} else {
		ok, _, err := h.st.TakeRateToken(ctx, "console/device-issue/"+u.ID, now, webform.DeviceIssueLimit)
		if err != nil {
			return "", err
		}
		if !ok {
			h.log.Info("console: no device cookie given: the user's new devices are over their limit", "user_id", u.ID, "org_id", u.OrgID)
			return "", nil
		}
	}
	secret := webform.NewSecret()
	err := h.st.CreateUserToken(ctx, store.UserToken{Hash: webform.SecretHash(secret), UserID: u.ID, OrgID: u.OrgID,
		Purpose: store.PurposeDevice, CreatedAt: now.UTC(), ExpiresAt: now.UTC().Add(webform.DeviceTTL)})
	return secret, err
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
	if _, err := h.st.GetUser(ctx, unknownUserID, unknownUserID); err != nil && !apperr.Is(err, apperr.NotFound) {
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
	return h.failAuth(ctx, r, audit.OutcomeNotFound, store.User{}, errInvalidCredentials)
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

// failAuth records a failed attempt and returns the answer for the user,
// unless recording failed: then nothing may be answered but an error.
func (h *Handler) failAuth(ctx context.Context, r *http.Request, o audit.Outcome, u store.User, answer error) error {
	if err := h.recordAuth(ctx, r, o, u); err != nil {
		return err
	}
	return answer
}

// recordAuth appends one authentication entry, durably, before the answer:
// Kong's record of a log-in to its web application.
func (h *Handler) recordAuth(ctx context.Context, r *http.Request, o audit.Outcome, u store.User) error {
	e := h.entry(r, audit.KindAuthentication, u)
	e.ClassID = audit.AuthTypeBasic
	e.Name = string(o)
	e.Request = r.URL.Path
	return h.recordEntry(ctx, e, u)
}

// recordLogout appends the access entry of a log-out, naming the user.
func (h *Handler) recordLogout(ctx context.Context, r *http.Request, u store.User, status int) error {
	e := h.entry(r, audit.KindAccess, u)
	e.ClassID = audit.AccessClassGateway
	e.Name = audit.AccessName
	e.Request = r.URL.Path
	e.Act = r.Method
	e.Status = status
	return h.recordEntry(ctx, e, u)
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

func (h *Handler) recordEntry(ctx context.Context, e audit.Entry, u store.User) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if e.OrgID == "" {
		id, err := h.systemOrgID(ctx)
		if err != nil {
			return apperr.Wrap(err, "system org")
		}
		e.OrgID = id
	}
	e.CapClientText()
	if _, err := h.rec.Record(ctx, []store.NewEntry{{Stream: store.StreamID(e.OrgID), Entry: e}}); err != nil {
		return apperr.Wrap(err, "record console %s entry", e.Kind)
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
		return store.User{}, h.failAuth(ctx, r, audit.OutcomeTokenExpired, u, errSessionExpired)
	}
	if u.Disabled {
		return store.User{}, errNoSession
	}
	return u, nil
}

// setSessionCookie gives the browser its new session, with a new form
// token: a form token is never carried from one session into another.
func (h *Handler) setSessionCookie(w http.ResponseWriter, r *http.Request, secret string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/", MaxAge: int(h.cfg.SessionTTL.Seconds()),
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
