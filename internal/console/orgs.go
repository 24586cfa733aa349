package console

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/webform"
)

// chooseCookie carries the chooser's secret (store.PurposeChooseOrg)
// between the log-in of a person with several orgs and their choice.
const chooseCookie = "sigtrail_console_choose"

// chooseTTL is how long a passed password waits for the choice of an org.
const chooseTTL = 10 * time.Minute

// newChooser makes a chooser token for u's person (kept as u's, one of
// the users they may enter), to be stored, and returns its secret.
func newChooser(u store.User, now time.Time) (string, store.UserToken) {
	secret := webform.NewSecret()
	return secret, store.UserToken{Hash: webform.SecretHash(secret), UserID: u.ID, OrgID: u.OrgID,
		Purpose: store.PurposeChooseOrg, CreatedAt: now.UTC(), ExpiresAt: now.UTC().Add(chooseTTL)}
}

// chooser is a person about to choose an org: logged in to one (current,
// a session) or just past the password (token, the chooser cookie's).
type chooser struct {
	current store.User
	// expires is when the current session ends: a switch keeps it, so
	// switching never outlives the log-in it came from.
	expires time.Time
	token   store.UserToken
	// users are the person's users they may enter (enterable), one per org.
	users []store.User
}

// findChooser resolves the request's session, else its chooser cookie, to
// the person and the users they may enter; errNoSession (or errSessionExpired)
// when it has neither.
func (h *Handler) findChooser(ctx context.Context, r *http.Request) (chooser, error) {
	var c chooser
	u, err := h.currentUser(ctx, r)
	switch {
	case err == nil:
		c.current = u
		sess, err := h.st.GetUserSession(ctx, webform.SecretHash(webform.CookieValue(r, sessionCookie)))
		if apperr.Is(err, apperr.NotFound) { // ended meanwhile
			return c, errNoSession
		} else if err != nil {
			return c, err
		}
		c.expires = sess.ExpiresAt
	case !errors.Is(err, errNoSession):
		return c, err
	default:
		secret := webform.CookieValue(r, chooseCookie)
		if secret == "" || len(secret) > 128 {
			return c, errNoSession
		}
		t, err := h.st.GetUserToken(ctx, webform.SecretHash(secret))
		switch {
		case apperr.Is(err, apperr.NotFound):
			return c, errNoSession
		case err != nil:
			return c, err
		case t.Purpose != store.PurposeChooseOrg || !h.clk.Now().Before(t.ExpiresAt):
			return c, errNoSession
		}
		c.token = t
		if u, err = h.st.GetUser(ctx, t.OrgID, t.UserID); apperr.Is(err, apperr.NotFound) {
			return c, errNoSession
		} else if err != nil {
			return c, err
		}
	}
	c.users, err = h.enterableUsers(ctx, u.IdentityID)
	return c, err
}

// enterable are the users of id whose orgs the person may enter: the
// enabled ones, and, while the password is an org's choice
// (store.Identity.PasswordOrgID), only that org's.
func enterable(id store.Identity, users []store.User) []store.User {
	return slices.DeleteFunc(slices.Clone(users), func(u store.User) bool {
		return u.Disabled || id.PasswordOrgID != "" && u.OrgID != id.PasswordOrgID
	})
}

// enterableUsers reads an identity and its enterable users.
func (h *Handler) enterableUsers(ctx context.Context, identityID string) ([]store.User, error) {
	id, err := h.st.GetIdentity(ctx, identityID)
	if err != nil {
		return nil, err
	}
	all, err := h.st.ListIdentityUsers(ctx, identityID)
	return enterable(id, all), err
}

// orgRow is one org on the chooser.
type orgRow struct {
	UserID, OrgName string
	Role            store.Role
	Current         bool
}

// pageOrgs lists the orgs the person may enter, by name, each a button
// that enters it: after a log-in with several orgs, and later to switch.
func (h *Handler) pageOrgs(w http.ResponseWriter, r *http.Request) {
	c, ok := h.chooserOrLogin(w, r)
	if !ok {
		return
	}
	var rows []orgRow
	ri := info(r)
	for _, u := range c.users {
		o, err := h.st.GetOrg(r.Context(), u.OrgID)
		if err != nil {
			d := h.newPage(w, r, store.User{}, "Console unavailable")
			h.render(w, r, h.showError(r, &d, err), "message-public", d)
			return
		}
		rows = append(rows, orgRow{UserID: u.ID, OrgName: o.Name, Role: u.Role, Current: u.ID == c.current.ID})
		if u.ID == c.current.ID && len(c.users) > 1 {
			ri.orgName = o.Name
		}
	}
	ri.orgs = len(c.users)
	r = r.WithContext(context.WithValue(r.Context(), reqKey{}, ri))
	title := "Choose an org"
	if c.current.ID != "" {
		title = "Switch org"
	}
	d := h.newPage(w, r, c.current, title)
	slices.SortFunc(rows, func(a, b orgRow) int { return cmp.Compare(a.OrgName, b.OrgName) })
	d.Data = rows
	h.render(w, r, http.StatusOK, "orgs", d)
}

// pageChooseOrg enters the chosen org: it ends the browser's session of
// another org (recording the log-out there) or uses up the chooser, opens
// a session of the person's user in the chosen org, and records that
// log-in in the chosen org's log. Only the person's own enabled users can
// be chosen.
func (h *Handler) pageChooseOrg(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r, store.User{}) {
		return
	}
	c, ok := h.chooserOrLogin(w, r)
	if !ok {
		return
	}
	i := slices.IndexFunc(c.users, func(u store.User) bool { return u.ID == r.PathValue("user") })
	if i < 0 {
		h.message(w, r, c.current, http.StatusNotFound, "Org not found", "You cannot enter that org.")
		return
	}
	target := c.users[i]
	if target.ID == c.current.ID {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	ctx := r.Context()
	// The password is read before the chooser or session is used up: one
	// set before that ended them, one set after is refused by the grant.
	id, err := h.st.GetIdentity(ctx, target.IdentityID)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		h.message(w, r, c.current, http.StatusServiceUnavailable, "Choose an org", "Entering the org failed; try again.")
		return
	}
	if err != nil || !slices.ContainsFunc(enterable(id, c.users), func(u store.User) bool { return u.ID == target.ID }) {
		h.message(w, r, c.current, http.StatusNotFound, "Org not found", "You cannot enter that org.")
		return
	}
	if c.token.Hash != nil {
		if _, err := h.st.ConsumeUserToken(ctx, c.token.Hash); apperr.Is(err, apperr.NotFound) {
			http.Redirect(w, r, "/login", http.StatusSeeOther) // used meanwhile
			return
		} else if err != nil {
			h.message(w, r, store.User{}, http.StatusServiceUnavailable, "Choose an org", "Entering the org failed; try again.")
			return
		}
	}
	if c.current.ID != "" {
		// The session switched from must still be there: one ended
		// meanwhile (a log-out, a new password, a disable) switches to
		// nothing.
		err := h.st.DeleteUserSession(ctx, webform.SecretHash(webform.CookieValue(r, sessionCookie)))
		if apperr.Is(err, apperr.NotFound) {
			h.clearSessionCookie(w, r)
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		} else if err != nil {
			h.message(w, r, c.current, http.StatusServiceUnavailable, "Switch org", "Switching failed; try again.")
			return
		}
		if err := h.recordLogout(ctx, r, c.current, http.StatusSeeOther); err != nil {
			h.log.Error("console: log-out of the org left not recorded", "user_id", c.current.ID, "trace_id", info(r).trace, "err", err)
		}
	}
	if err := h.recordAuth(ctx, r, audit.OutcomeSuccess, target); err != nil {
		d := h.newPage(w, r, store.User{}, "Choose an org")
		h.render(w, r, h.showError(r, &d, err), "message-public", d)
		return
	}
	expires := c.expires
	if expires.IsZero() {
		expires = h.clk.Now().Add(h.cfg.SessionTTL)
	}
	secret, sess := newSession(target, h.clk.Now(), expires)
	err = h.st.CreateLoginGrant(ctx, store.LoginGrant{IdentityID: id.ID, PasswordHash: id.PasswordHash, Sessions: []store.UserSession{sess}})
	if apperr.Is(err, apperr.Conflict) { // a new password meanwhile
		h.clearChooseCookie(w, r)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	} else if err != nil {
		d := h.newPage(w, r, store.User{}, "Choose an org")
		h.render(w, r, h.showError(r, &d, err), "message-public", d)
		return
	}
	h.clearChooseCookie(w, r)
	h.setSessionCookie(w, r, secret, expires.Sub(h.clk.Now()))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// chooserOrLogin is findChooser for a page: without a session or chooser
// it has sent the browser to the log-in page.
func (h *Handler) chooserOrLogin(w http.ResponseWriter, r *http.Request) (chooser, bool) {
	c, err := h.findChooser(r.Context(), r)
	switch {
	case err == nil && len(c.users) > 0:
		return c, true
	case err == nil, errors.Is(err, errNoSession):
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	case errors.Is(err, errSessionExpired):
		h.clearSessionCookie(w, r)
		http.Redirect(w, r, "/login?m=expired", http.StatusSeeOther)
	default:
		d := h.newPage(w, r, store.User{}, "Console unavailable")
		h.render(w, r, h.showError(r, &d, err), "message-public", d)
	}
	return c, false
}

func (h *Handler) setChooseCookie(w http.ResponseWriter, r *http.Request, secret string) {
	http.SetCookie(w, &http.Cookie{Name: chooseCookie, Value: secret, Path: "/", MaxAge: int(chooseTTL.Seconds()),
		HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteStrictMode})
}

func (h *Handler) clearChooseCookie(w http.ResponseWriter, r *http.Request) {
	if webform.CookieValue(r, chooseCookie) != "" {
		http.SetCookie(w, &http.Cookie{Name: chooseCookie, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteStrictMode})
	}
}

// enabledOrgs counts the orgs u's person may enter and, when there are
// several, names u's.
func (h *Handler) enabledOrgs(ctx context.Context, u store.User) (int, string, error) {
	users, err := h.enterableUsers(ctx, u.IdentityID)
	if err != nil || len(users) < 2 {
		return len(users), "", err
	}
	o, err := h.st.GetOrg(ctx, u.OrgID)
	return len(users), o.Name, err
}
