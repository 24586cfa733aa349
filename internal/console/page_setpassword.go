package console

import (
	"context"
	"net/http"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/webform"
)

// errBadLink answers every set-password link that cannot be used: an
// unknown, expired or used token, or one whose user is gone, alike, so the
// page tells nothing about which addresses have accounts.
var errBadLink = apperr.New(apperr.NotFound, "This link cannot be used: it may have expired or been used already. Ask an org admin to send you a new one.")

// linkToken finds the user of a set-password token without using it up.
func (h *Handler) linkToken(ctx context.Context, token string) (store.UserToken, store.User, error) {
	if token == "" || len(token) > 128 {
		return store.UserToken{}, store.User{}, errBadLink
	}
	t, err := h.st.GetUserToken(ctx, webform.SecretHash(token))
	if err == nil && (t.Purpose != store.PurposeSetPassword || !h.clk.Now().Before(t.ExpiresAt)) {
		err = errBadLink
	}
	var u store.User
	if err == nil {
		u, err = h.st.GetUser(ctx, t.OrgID, t.UserID)
	}
	if apperr.Is(err, apperr.NotFound) {
		err = errBadLink
	}
	return t, u, err
}

func (h *Handler) badLink(w http.ResponseWriter, r *http.Request, err error) {
	d := h.newPage(w, r, store.User{}, "Set your password")
	status := h.showError(r, &d, err)
	h.render(w, r, status, "message-public", d)
}

func (h *Handler) pageSetPassword(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	_, u, err := h.linkToken(r.Context(), token)
	if err != nil {
		h.badLink(w, r, err)
		return
	}
	d := h.newPage(w, r, store.User{}, "Set your password")
	d.Fields["token"], d.Fields["email"] = token, u.Email
	h.render(w, r, http.StatusOK, "setpassword", d)
}

// pageSetPasswordPost sets the password of the token's user's identity,
// uses the token up, ends the person's sessions and device tokens in
// every org, lifts the lock (the link proves control of the address),
// makes this browser a known device, and records the change in the log of
// the org whose link it was, as the console records other user changes,
// and in each other org of the person as an edit of their user there.
func (h *Handler) pageSetPasswordPost(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r, store.User{}) {
		return
	}
	token := r.PostForm.Get("token")
	_, u, err := h.linkToken(r.Context(), token)
	if err != nil {
		h.badLink(w, r, err)
		return
	}
	d := h.newPage(w, r, store.User{}, "Set your password")
	d.Fields["token"], d.Fields["email"] = token, u.Email
	password := r.PostForm.Get("password")
	var params []apperr.InvalidParam
	if reason := passwordProblem(password); reason != "" {
		params = append(params, apperr.InvalidParam{Field: "password", Reason: reason})
	} else if r.PostForm.Get("confirm") != password {
		params = append(params, apperr.InvalidParam{Field: "confirm", Reason: "does not match the password"})
	}
	if len(params) > 0 {
		h.render(w, r, h.showError(r, &d, &apperr.Error{Code: apperr.Invalid, Message: "Invalid password", Params: params}), "setpassword", d)
		return
	}
	hash, err := h.hash.Hash(r.Context(), password)
	if err != nil {
		h.render(w, r, h.showError(r, &d, apperr.Wrap(err, "hash password")), "setpassword", d)
		return
	}
	// The user acts on their own account: granted for their role.
	var device string
	err = h.audited(r, u, resUsers, audit.ActionEdit, []store.Role{u.Role}, func(ctx context.Context) error {
		t, err := h.st.ConsumeUserToken(ctx, webform.SecretHash(token))
		switch {
		case apperr.Is(err, apperr.NotFound):
			return errBadLink // used meanwhile
		case err != nil:
			return err
		case t.UserID != u.ID || !h.clk.Now().Before(t.ExpiresAt):
			return errBadLink
		}
		x, err := h.st.GetUser(ctx, u.OrgID, u.ID)
		if apperr.Is(err, apperr.NotFound) {
			return errBadLink
		}
		if err != nil {
			return err
		}
		// The password is the person's, in every org: their sessions and
		// known browsers everywhere end with the old one. This browser,
		// whose person just proved control of the address, becomes known,
		// so it logs in past a lock a stranger keeps setting.
		if err := h.st.SetIdentityPassword(ctx, x.IdentityID, hash, h.clk.Now().UTC()); err != nil {
			return err
		}
		// It ended the person's sessions in their other orgs too: each
		// records it (this org's entries are audited's).
		if users, err := h.st.ListIdentityUsers(ctx, x.IdentityID); err != nil {
			h.log.Error("console: a password set is not recorded in the person's other orgs", "user_id", x.ID, "trace_id", info(r).trace, "err", err)
		} else {
			h.recordForOtherOrgs(r, x.OrgID, users)
		}
		device, err = h.newDevice(ctx, x, store.UserToken{}, h.clk.Now())
		return err
	})
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			h.badLink(w, r, err)
			return
		}
		h.render(w, r, h.showError(r, &d, err), "setpassword", d)
		return
	}
	h.setDeviceCookie(w, r, device)
	http.Redirect(w, r, "/login?m=password-set", http.StatusSeeOther)
}
