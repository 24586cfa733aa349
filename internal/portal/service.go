package portal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/httpx"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/webform"
)

// errGone is an expired emailed token: 410 in the contract, which apperr
// has no code for, so the API writer maps it itself.
var errGone = errors.New("the token has expired")

// Answers shown to developers. Unknown email, wrong password and a locked
// account share one answer so nobody learns which addresses have accounts.
var (
	errInvalidCredentials = apperr.New(apperr.Unauthorized, "You have entered an invalid email or password.")
	errPending            = apperr.New(apperr.Unauthorized, "Your account is pending approval for access.")
	errDisabled           = apperr.New(apperr.Unauthorized, "Your account has been disabled.")
	errNoSession          = apperr.New(apperr.Unauthorized, "Unauthorized")
	errSessionExpired     = apperr.New(apperr.Unauthorized, "Your session has expired")
	errSignInDisabled     = apperr.New(apperr.NotFound, "Developer sign-in is not enabled on this portal")
)

// register creates a developer and emails a verification link. A taken
// email gets the same answer and an email to its owner instead, so the
// answer reveals nothing. Mail goes through the outbox (Outbox): queued
// before the answer, sent when the relay answers, so a relay outage does
// not change the answer either.
func (s *server) register(ctx context.Context, r *http.Request, email, fullName string) error {
	ri := info(r)
	if !ri.portal.AuthenticationEnabled {
		return errSignInDisabled
	}
	if err := s.checkRate(ctx, r, rateRegister); err != nil {
		return err
	}
	existing, err := s.st.GetDeveloperByEmail(ctx, ri.portal.ID, email)
	switch {
	case err == nil:
		if err := s.takenEmailWork(ctx, ri.portal.ID, email, s.clk.Now()); err != nil {
			return err
		}
		return s.sendExistingAccountNotice(ctx, ri, existing)
	case !apperr.Is(err, apperr.NotFound):
		return err
	}
	now := s.clk.Now().UTC()
	id, err := uuid.NewV7()
	if err != nil {
		return apperr.Wrap(err, "developer id")
	}
	status := store.DeveloperPending
	if ri.portal.AutoApproveDevelopers {
		status = store.DeveloperApproved
	}
	d := store.Developer{ID: id.String(), PortalID: ri.portal.ID, OrgID: ri.portal.OrgID, Email: email,
		FullName: fullName, Status: status, CreatedAt: now, UpdatedAt: now}
	if err := s.st.CreateDeveloper(ctx, d); err != nil {
		if apperr.Is(err, apperr.Conflict) { // a concurrent sign-up with the same email won
			return nil
		}
		return err
	}
	token, err := s.issueEmailToken(ctx, d, store.PurposeVerifyEmail, s.cfg.VerifyTTL)
	if err == nil {
		err = s.mail.Send(ctx, d.Email, "Verify your email for "+portalTitle(ri.portal), verifyEmailText(ri.portal, d, s.baseURL(ri)+"/verify-email?token="+token))
	}
	if err != nil {
		// Without the email the account is unusable: undo it so the
		// developer can simply sign up again.
		if derr := s.st.DeleteDeveloper(context.WithoutCancel(ctx), d.PortalID, d.ID); derr != nil {
			s.log.Error("undo registration", "trace_id", ri.trace, "developer_id", d.ID, "err", derr)
		}
		s.log.Error("send verification email", "trace_id", ri.trace, "developer_id", d.ID, "err", err)
		return errMailNotQueued
	}
	return nil
}

// errMailNotQueued answers a sign-up whose email could not be sent (with
// an outbox: not even queued, so the store is failing), whether or not the
// address has an account.
var errMailNotQueued = apperr.New(apperr.Unavailable, "The verification email could not be sent; try again later")

// sendExistingAccountNotice emails the owner of a taken address. It fails
// as a new sign-up's email would, so the answer tells the two apart in no
// case.
func (s *server) sendExistingAccountNotice(ctx context.Context, ri reqInfo, d store.Developer) error {
	link := s.baseURL(ri) + "/forgot-password"
	if err := s.mail.Send(ctx, d.Email, "Sign-up attempt on "+portalTitle(ri.portal), existingAccountText(ri.portal, d, link)); err != nil {
		s.log.Error("send existing-account notice", "trace_id", ri.trace, "developer_id", d.ID, "err", err)
		return errMailNotQueued
	}
	return nil
}

func (s *server) issueEmailToken(ctx context.Context, d store.Developer, purpose string, ttl time.Duration) (string, error) {
	token := newEmailToken()
	now := s.clk.Now().UTC()
	err := s.st.CreateDeveloperToken(ctx, store.DeveloperToken{Hash: tokenHash(token), DeveloperID: d.ID,
		PortalID: d.PortalID, Purpose: purpose, CreatedAt: now, ExpiresAt: now.Add(ttl)})
	return token, err
}

// consumeEmailToken checks an emailed token's purpose and expiry, then
// uses it up, and returns its developer.
func (s *server) consumeEmailToken(ctx context.Context, r *http.Request, token, purpose string) (store.Developer, error) {
	ri := info(r)
	if !ri.portal.AuthenticationEnabled {
		return store.Developer{}, errSignInDisabled
	}
	token, err := checkToken(token)
	if err != nil {
		return store.Developer{}, err
	}
	notFound := apperr.New(apperr.NotFound, "The provided token was not found")
	h := tokenHash(token)
	// Look before consuming, so a token of another purpose or portal is
	// left intact.
	t, err := s.st.GetDeveloperToken(ctx, h)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return store.Developer{}, notFound
		}
		return store.Developer{}, err
	}
	if t.Purpose != purpose || t.PortalID != ri.portal.ID {
		return store.Developer{}, notFound
	}
	if !s.clk.Now().Before(t.ExpiresAt) {
		_, _ = s.st.ConsumeDeveloperToken(ctx, h)
		return store.Developer{}, errGone
	}
	if _, err := s.st.ConsumeDeveloperToken(ctx, h); err != nil {
		if apperr.Is(err, apperr.NotFound) { // used concurrently
			return store.Developer{}, notFound
		}
		return store.Developer{}, err
	}
	d, err := s.st.GetDeveloper(ctx, ri.portal.ID, t.DeveloperID)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return store.Developer{}, notFound
		}
		return store.Developer{}, err
	}
	return d, nil
}

// verifyEmail marks the email verified and answers a reset token with
// which the developer sets a password.
func (s *server) verifyEmail(ctx context.Context, r *http.Request, token string) (store.Developer, string, error) {
	d, err := s.consumeEmailToken(ctx, r, token, store.PurposeVerifyEmail)
	if err != nil {
		return d, "", err
	}
	if !d.EmailVerified {
		d.EmailVerified = true
		d.UpdatedAt = s.clk.Now().UTC()
		if err := s.st.UpdateDeveloper(ctx, d); err != nil {
			return d, "", err
		}
	}
	reset, err := s.issueEmailToken(ctx, d, store.PurposeResetPassword, s.cfg.ResetTTL)
	return d, reset, err
}

// resetPassword sets a new password with a reset token. It proves control
// of the email, so it also verifies it and lifts a lock; every session,
// every other emailed link and every device token of the developer ends,
// and the browser that used the link gets a new device token (returned):
// it logs in past a lock a stranger sets again right after.
func (s *server) resetPassword(ctx context.Context, r *http.Request, token, password string) (store.Developer, string, error) {
	if _, err := checkToken(token); err != nil {
		return store.Developer{}, "", err
	}
	if err := checkNewPassword(password); err != nil {
		return store.Developer{}, "", err
	}
	d, err := s.consumeEmailToken(ctx, r, token, store.PurposeResetPassword)
	if err != nil {
		return d, "", err
	}
	hash, err := s.hash.hash(ctx, password)
	if err != nil {
		return d, "", apperr.Wrap(err, "hash password")
	}
	mu := s.lockFor(d.PortalID, d.Email)
	mu.Lock()
	defer mu.Unlock()
	if d, err = s.st.GetDeveloper(ctx, d.PortalID, d.ID); err != nil {
		return d, "", err
	}
	d.PasswordHash = hash
	d.EmailVerified = true
	d.FailedLogins, d.FailedSince, d.LockedUntil = 0, time.Time{}, time.Time{} // a new password ends a lock
	d.UpdatedAt = s.clk.Now().UTC()
	if err := s.st.UpdateDeveloper(ctx, d); err != nil {
		return d, "", err
	}
	// Every session ends, and so does every other emailed link: an earlier
	// reset link or an unfollowed verification link (which answers a reset
	// token) that reached someone else must not replace this password. The
	// browsers the old password made known are strangers again.
	for _, p := range []string{store.PurposeSession, store.PurposeRefresh, store.PurposeResetPassword, store.PurposeVerifyEmail, store.PurposeDevice} {
		if err := s.st.DeleteDeveloperTokens(ctx, d.ID, p); err != nil {
			return d, "", err
		}
	}
	device, err := s.newDevice(ctx, d, nil)
	return d, device, err
}

// forgotPassword emails a reset link when the address has an account and
// does nothing visible otherwise.
func (s *server) forgotPassword(ctx context.Context, r *http.Request, email string) error {
	ri := info(r)
	if !ri.portal.AuthenticationEnabled {
		return errSignInDisabled
	}
	if err := s.checkRate(ctx, r, rateRegister); err != nil {
		return err
	}
	d, err := s.st.GetDeveloperByEmail(ctx, ri.portal.ID, email)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return nil
		}
		return err
	}
	// The answer does not wait for the token and the email: an SMTP round
	// trip made only for addresses that have an account would tell them
	// apart by the time the answer takes.
	go s.sendReset(context.WithoutCancel(ctx), ri, d)
	return nil
}

// sendReset issues a reset token and emails its link. Failures are only
// logged: answering them would tell the caller the account exists.
func (s *server) sendReset(ctx context.Context, ri reqInfo, d store.Developer) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	token, err := s.issueEmailToken(ctx, d, store.PurposeResetPassword, s.cfg.ResetTTL)
	if err == nil {
		link := s.baseURL(ri) + "/reset-password?token=" + token
		err = s.mail.Send(ctx, d.Email, "Reset your password for "+portalTitle(ri.portal), resetEmailText(ri.portal, d, link))
	}
	if err != nil {
		s.log.Error("send reset email", "trace_id", ri.trace, "developer_id", d.ID, "err", err)
	}
}

// authenticate checks an email and password, records the attempt in the
// portal's audit stream, and opens a session on success. path is the
// request path recorded in the entry.
//
// A browser that presents its developer's device token (deviceCookie,
// given at the developer's last log-in or password reset on it) is not
// refused by the account's lock and does not count towards it: its
// attempts are limited per device (Lockout.DeviceLimit), so a device that
// keeps failing is refused on its own. Everyone else counts towards the
// account's lock and is refused by it, so a stranger who knows only the
// address cannot lock the developer's own browsers out (OWASP's device
// cookies).
func (s *server) authenticate(ctx context.Context, r *http.Request, email, password string) (session, error) {
	// The request has been read: its attempt is judged, counted and
	// recorded to the end, whether or not the client waits for the answer.
	ctx, cancel := detached(ctx)
	defer cancel()
	ri := info(r)
	if !ri.portal.AuthenticationEnabled {
		return session{}, errSignInDisabled
	}
	if err := s.checkRate(ctx, r, rateAuth); err != nil {
		return session{}, err
	}
	if err := s.basicAllowed(ctx, r); err != nil {
		return session{}, err
	}
	mu := s.lockFor(ri.portal.ID, email)
	mu.Lock()
	defer mu.Unlock()

	now := s.clk.Now()
	// Read whatever address is tried, so a presented token costs an
	// unknown email the same read as a known one.
	dev, err := s.presentedDevice(ctx, r, now)
	if err != nil {
		return session{}, err
	}
	d, err := s.st.GetDeveloperByEmail(ctx, ri.portal.ID, email)
	if err != nil {
		if !apperr.Is(err, apperr.NotFound) {
			return session{}, err
		}
		// Spend the time a real check takes, so timing tells nothing.
		if _, err := s.hash.check(ctx, "", password); err != nil {
			return session{}, apperr.Wrap(err, "dummy hash")
		}
		if err := s.unknownEmailWork(ctx, ri.portal.ID, email, now); err != nil {
			return session{}, err
		}
		return session{}, s.failAuth(ctx, r, audit.OutcomeNotFound, "", errInvalidCredentials)
	}
	known := dev.DeveloperID != "" && dev.DeveloperID == d.ID
	if known {
		ok, wait, err := s.st.TakeRateToken(ctx, webform.DeviceBucket("portal/"+ri.portal.ID+"/device/", dev.Hash), now, s.cfg.Lockout.DeviceLimit())
		if err != nil {
			return session{}, err
		}
		if !ok {
			s.log.Warn("portal: log-in refused: this known device failed too often", "portal_id", d.PortalID,
				"developer_id", d.ID, "retry_in", wait.String(), "trace_id", ri.trace)
			return session{}, s.lockedAttempt(ctx, r, password, d)
		}
		if s.cfg.Lockout.Locked(d, now) {
			s.log.Info("portal: log-in attempt from a known device while the account is locked", "portal_id", d.PortalID,
				"developer_id", d.ID, "trace_id", ri.trace)
		}
	} else if s.cfg.Lockout.Locked(d, now) {
		return session{}, s.lockedAttempt(ctx, r, password, d)
	}
	ok, err := s.hash.check(ctx, d.PasswordHash, password)
	if err != nil {
		return session{}, apperr.Wrap(err, "check password of developer %s", d.ID)
	}
	// The check took tens of milliseconds, in which another replica may
	// have locked the account (this process's attempts wait on mu): the
	// account as it is now decides, as for an attempt a moment later.
	if d, err = s.st.GetDeveloper(ctx, d.PortalID, d.ID); err != nil {
		return session{}, s.vanished(ctx, r, err)
	}
	locked := s.cfg.Lockout.Locked(d, now)
	if locked && !known {
		return session{}, s.failAuth(ctx, r, audit.OutcomeLocked, d.ID, errInvalidCredentials)
	}
	if !ok {
		// Counted in the store under a row lock: failures that reach
		// several replicas at once all count. A known device's were
		// counted in its own bucket.
		if !known {
			if _, err := s.st.RecordLoginFailure(ctx, d.PortalID, d.ID, now, s.cfg.Lockout); err != nil {
				return session{}, s.vanished(ctx, r, err)
			}
		}
		return session{}, s.failAuth(ctx, r, audit.OutcomeInvalidPassword, d.ID, errInvalidCredentials)
	}
	// A lock stays when a known device gets in past it: it still holds
	// against everyone else.
	if !locked && hasFailures(d) {
		if err := s.st.ClearLoginFailures(ctx, d.PortalID, d.ID); err != nil {
			return session{}, err
		}
	}
	switch d.Status {
	case store.DeveloperApproved:
	case store.DeveloperPending:
		return session{}, s.failAuth(ctx, r, audit.OutcomeDisabled, d.ID, errPending)
	default:
		return session{}, s.failAuth(ctx, r, audit.OutcomeDisabled, d.ID, errDisabled)
	}
	if err := s.record(ctx, r, audit.OutcomeSuccess, d.ID); err != nil {
		return session{}, err
	}
	ss, err := s.openLoginSession(ctx, r, d)
	if err != nil {
		return session{}, err
	}
	// Only the developer's own token is replaced in the store: another's,
	// which the cookie no longer carries, expires on its own (deleting it
	// would let whoever holds a copy end its owner's device).
	var replaced []byte
	if known {
		replaced = dev.Hash
	}
	if ss.device, err = s.newDevice(ctx, d, replaced); err != nil {
		return session{}, err
	}
	return ss, nil
}

// presentedDevice is the unexpired device token of this portal that the
// request's cookie names, whoever's it is; the zero token when there is
// none.
func (s *server) presentedDevice(ctx context.Context, r *http.Request, now time.Time) (store.DeveloperToken, error) {
	secret := webform.DeviceSecret(r, deviceCookie)
	if secret == "" {
		return store.DeveloperToken{}, nil
	}
	t, err := s.st.GetDeveloperToken(ctx, tokenHash(secret))
	switch {
	case apperr.Is(err, apperr.NotFound):
		return store.DeveloperToken{}, nil
	case err != nil:
		return store.DeveloperToken{}, err
	case t.Purpose != store.PurposeDevice || t.PortalID != info(r).portal.ID || !now.Before(t.ExpiresAt):
		return store.DeveloperToken{}, nil
	}
	return t, nil
}

// newDevice issues a device token for d's browser, replacing d's token it
// presented (replaced, its hash; nil for none): a browser holds one, and a
// copy of the old one stops working once its owner logs in again. A
// browser new to d gets one within webform.DeviceIssueLimit, else none
// ("").
func (s *server) newDevice(ctx context.Context, d store.Developer, replaced []byte) (string, error) {
	now := s.clk.Now().UTC()
	if replaced != nil {
		if _, err := s.st.ConsumeDeveloperToken(ctx, replaced); err != nil && !apperr.Is(err, apperr.NotFound) {
			return "", err
		}
	} else {
		ok, _, err := s.st.TakeRateToken(ctx, "portal/"+d.PortalID+"/device-issue/"+d.ID, now, webform.DeviceIssueLimit)
		if err != nil {
			return "", err
		}
		if !ok {
			s.log.Info("portal: no device cookie given: the developer's new devices are over their limit",
				"portal_id", d.PortalID, "developer_id", d.ID)
			return "", nil
		}
	}
	secret := newSecret()
	err := s.st.CreateDeveloperToken(ctx, store.DeveloperToken{Hash: tokenHash(secret), DeveloperID: d.ID, PortalID: d.PortalID,
		Purpose: store.PurposeDevice, CreatedAt: now, ExpiresAt: now.Add(webform.DeviceTTL)})
	return secret, err
}

// rejectUsername answers a log-in whose username is not an email address,
// which no account can have. It is still an attempt: it counts against the
// client's rate limit and is recorded as NOT_FOUND, so a guesser spraying
// user names leaves a trace. The user gets the validation error.
func (s *server) rejectUsername(ctx context.Context, r *http.Request, invalid error) error {
	if !info(r).portal.AuthenticationEnabled {
		return errSignInDisabled
	}
	if err := s.checkRate(ctx, r, rateAuth); err != nil {
		return err
	}
	return s.failAuth(ctx, r, audit.OutcomeNotFound, "", invalid)
}

// vanished answers an attempt whose account was deleted while it was
// judged as one on an unknown email; other errors pass through.
func (s *server) vanished(ctx context.Context, r *http.Request, err error) error {
	if !apperr.Is(err, apperr.NotFound) {
		return err
	}
	return s.failAuth(ctx, r, audit.OutcomeNotFound, "", errInvalidCredentials)
}

// lockedAttempt answers an attempt on a locked account after spending
// the time a password check takes, so timing does not tell it apart.
func (s *server) lockedAttempt(ctx context.Context, r *http.Request, password string, d store.Developer) error {
	if _, err := s.hash.check(ctx, "", password); err != nil {
		return apperr.Wrap(err, "dummy hash")
	}
	// The store work of a wrong password (a read and a commit), so a locked
	// account answers no sooner than an unknown address or a live one.
	if err := s.unknownEmailWork(ctx, d.PortalID, d.Email, s.clk.Now()); err != nil {
		return err
	}
	return s.failAuth(ctx, r, audit.OutcomeLocked, d.ID, errInvalidCredentials)
}

// failAuth records a failed attempt and returns the answer for the user,
// unless recording failed: then nothing may be answered but an error.
func (s *server) failAuth(ctx context.Context, r *http.Request, o audit.Outcome, principal string, answer error) error {
	if err := s.record(ctx, r, o, principal); err != nil {
		return err
	}
	return answer
}

// record appends one authentication entry to the portal's stream, durably,
// before the caller answers. A client that hangs up once its attempt was
// judged does not take the entry with it.
func (s *server) record(ctx context.Context, r *http.Request, o audit.Outcome, principal string) error {
	return s.recordAs(ctx, r, audit.AuthTypeBasic, o, principal)
}

// recordAs is record for an attempt of the given AUTHENTICATION_TYPE_*.
func (s *server) recordAs(ctx context.Context, r *http.Request, classID string, o audit.Outcome, principal string) error {
	ctx, cancel := detached(ctx)
	defer cancel()
	ri := info(r)
	e := audit.Entry{
		Kind:        audit.KindAuthentication,
		Time:        s.clk.Now().UTC(),
		Product:     audit.ProductDevPortal,
		ClassID:     classID,
		Name:        string(o),
		Src:         httpx.ClientIP(r, s.cfg.TrustedProxies),
		OrgID:       ri.portal.OrgID,
		PortalID:    ri.portal.ID,
		PrincipalID: principal,
		TraceID:     ri.trace,
		UserAgent:   r.UserAgent(),
		Request:     r.URL.Path,
	}
	e.CapClientText()
	if _, err := s.rec.Record(ctx, []store.NewEntry{{Stream: store.StreamID(ri.portal.ID), Entry: e}}); err != nil {
		return apperr.Wrap(err, "record authentication")
	}
	return nil
}

// detached returns a context that outlives the client's request, bounded
// by a time limit of its own: for authentication attempts and their writes
// (the audit entry, the failure count), which a hang-up must not skip.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}

// openSession issues a pair of access and refresh secrets to d, tied by
// sessionID: a new log-in's ("" makes one), or the one a refresh carries
// on, so that ending the session ends every pair it was traded for.
func (s *server) openSession(ctx context.Context, d store.Developer, sessionID string) (session, error) {
	if sessionID == "" {
		sessionID = newSecret()
	}
	now := s.clk.Now().UTC()
	ss := session{id: sessionID, access: newSecret(), refresh: newSecret(), accessExp: now.Add(s.cfg.SessionTTL), refreshExp: now.Add(s.cfg.RefreshTTL)}
	for _, t := range []store.DeveloperToken{
		{Hash: tokenHash(ss.access), DeveloperID: d.ID, PortalID: d.PortalID, Purpose: store.PurposeSession, CreatedAt: now, ExpiresAt: ss.accessExp, SessionID: sessionID},
		{Hash: tokenHash(ss.refresh), DeveloperID: d.ID, PortalID: d.PortalID, Purpose: store.PurposeRefresh, CreatedAt: now, ExpiresAt: ss.refreshExp, SessionID: sessionID},
	} {
		if err := s.st.CreateDeveloperToken(ctx, t); err != nil {
			return session{}, err
		}
	}
	return ss, nil
}

// openLoginSession opens the session of a log-in (password or SSO) after
// ending the one the browser presented, whoever's it was: a browser holds
// one session, and the secrets of the one before (another developer's, or
// a copied or planted cookie) must not outlive the log-in. The browser
// sends its access cookie here but not its refresh cookie (whose path is
// the refresh endpoint), so the presented access token's whole session
// ends: its refresh token too; once the access cookie has expired, the
// session cookie names it. The presented secrets are deleted before the
// new ones exist, so a failure leaves no two sessions.
func (s *server) openLoginSession(ctx context.Context, r *http.Request, d store.Developer) (session, error) {
	if err := s.endPresentedSession(ctx, r); err != nil {
		return session{}, err
	}
	return s.openSession(ctx, d, "")
}

// endPresentedSession ends the session of the access or refresh secret
// the request carries, expired or not: the presented tokens and every
// other token of their session; and the session its session cookie names.
func (s *server) endPresentedSession(ctx context.Context, r *http.Request) error {
	if id := cookieValue(r, sessionCookie); id != "" && len(id) <= 128 {
		if _, err := s.st.DeleteDeveloperSession(ctx, id); err != nil {
			return err
		}
	}
	for _, c := range []struct{ cookie, purpose string }{{accessCookie, store.PurposeSession}, {refreshCookie, store.PurposeRefresh}} {
		t, ok, err := s.lookupToken(ctx, r, cookieValue(r, c.cookie), c.purpose)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if _, err := s.st.ConsumeDeveloperToken(ctx, t.Hash); err != nil && !apperr.Is(err, apperr.NotFound) {
			return err
		}
		if t.SessionID == "" { // opened before sessions had ids
			continue
		}
		if _, err := s.st.DeleteDeveloperSession(ctx, t.SessionID); err != nil {
			return err
		}
	}
	return nil
}

// lookupToken finds a session or refresh secret of this portal, expired or
// not.
func (s *server) lookupToken(ctx context.Context, r *http.Request, secret, purpose string) (store.DeveloperToken, bool, error) {
	if secret == "" || len(secret) > 128 {
		return store.DeveloperToken{}, false, nil
	}
	t, err := s.st.GetDeveloperToken(ctx, tokenHash(secret))
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return t, false, nil
		}
		return t, false, err
	}
	if t.Purpose != purpose || t.PortalID != info(r).portal.ID || !bytes.Equal(t.Hash, tokenHash(secret)) {
		return t, false, nil
	}
	return t, true, nil
}

// currentDeveloper resolves the access cookie. An expired session is an
// authentication attempt that failed: it is recorded as TOKEN_EXPIRED.
func (s *server) currentDeveloper(ctx context.Context, r *http.Request) (store.Developer, error) {
	t, ok, err := s.lookupToken(ctx, r, cookieValue(r, accessCookie), store.PurposeSession)
	if err != nil {
		return store.Developer{}, err
	}
	if !ok {
		return store.Developer{}, errNoSession
	}
	if !s.clk.Now().Before(t.ExpiresAt) {
		return store.Developer{}, s.failAuth(ctx, r, audit.OutcomeTokenExpired, t.DeveloperID, errSessionExpired)
	}
	d, err := s.st.GetDeveloper(ctx, info(r).portal.ID, t.DeveloperID)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return d, errNoSession
		}
		return d, err
	}
	if d.Status != store.DeveloperApproved {
		return d, errNoSession
	}
	return d, nil
}

// refresh trades a refresh secret for a new session; the old refresh
// secret is used up, so a stolen one works once at most.
func (s *server) refresh(ctx context.Context, r *http.Request) (session, error) {
	secret := cookieValue(r, refreshCookie)
	t, ok, err := s.lookupToken(ctx, r, secret, store.PurposeRefresh)
	if err != nil {
		return session{}, err
	}
	if !ok {
		return session{}, errNoSession
	}
	if !s.clk.Now().Before(t.ExpiresAt) {
		return session{}, s.failAuth(ctx, r, audit.OutcomeTokenExpired, t.DeveloperID, errSessionExpired)
	}
	if _, err := s.st.ConsumeDeveloperToken(ctx, t.Hash); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return session{}, errNoSession
		}
		return session{}, err
	}
	d, err := s.st.GetDeveloper(ctx, info(r).portal.ID, t.DeveloperID)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return session{}, errNoSession
		}
		return session{}, err
	}
	if d.Status != store.DeveloperApproved {
		return session{}, s.failAuth(ctx, r, audit.OutcomeDisabled, d.ID, errDisabled)
	}
	if err := s.record(ctx, r, audit.OutcomeSuccess, d.ID); err != nil {
		return session{}, err
	}
	return s.openSession(ctx, d, t.SessionID)
}

// logout ends every session of the developer whose cookie came with the
// request, expired or not; with no access or refresh cookie (the access
// cookie expired), the session the session cookie names.
func (s *server) logout(ctx context.Context, r *http.Request) error {
	if id := cookieValue(r, sessionCookie); id != "" && len(id) <= 128 {
		if _, err := s.st.DeleteDeveloperSession(ctx, id); err != nil {
			return err
		}
	}
	for _, c := range []struct{ cookie, purpose string }{{accessCookie, store.PurposeSession}, {refreshCookie, store.PurposeRefresh}} {
		t, ok, err := s.lookupToken(ctx, r, cookieValue(r, c.cookie), c.purpose)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		for _, p := range []string{store.PurposeSession, store.PurposeRefresh} {
			if err := s.st.DeleteDeveloperTokens(ctx, t.DeveloperID, p); err != nil {
				return err
			}
		}
		return nil
	}
	return nil
}

func portalTitle(p store.Portal) string {
	if p.DisplayName != "" {
		return p.DisplayName
	}
	return p.Name
}

// The emails greet nobody by name: whoever signs up chooses the name and
// any address, so a name would carry a stranger's text (a phishing line, a
// link) in a genuine email from the portal to the address's owner. That
// holds for the notice of a second sign-up and for a reset too: the name
// of an account stays the one its first sign-up chose.
func verifyEmailText(p store.Portal, _ store.Developer, link string) string {
	return fmt.Sprintf("Hello,\n\nThank you for signing up to %s. Confirm your email address and choose a password here:\n\n%s\n\nThe link works once and expires in a day. If you did not sign up, ignore this email.\n",
		portalTitle(p), link)
}

func resetEmailText(p store.Portal, _ store.Developer, link string) string {
	return fmt.Sprintf("Hello,\n\nSomeone asked to reset your password on %s. Choose a new password here:\n\n%s\n\nThe link works once and expires in an hour. If it was not you, ignore this email.\n",
		portalTitle(p), link)
}

func existingAccountText(p store.Portal, _ store.Developer, link string) string {
	return fmt.Sprintf("Hello,\n\nSomeone tried to sign up to %s with this email address, which already has an account. If it was you and you forgot your password, reset it here:\n\n%s\n\nOtherwise ignore this email.\n",
		portalTitle(p), link)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
