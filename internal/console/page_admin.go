package console

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/signing"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/tenancy"
)

// Keyring is the signing keyring the Keys page lists and rotates.
type Keyring interface {
	Keys() []signing.Key
	Rotate(ctx context.Context) (string, error)
}

// Every role may read keys, tokens (never their secrets) and users;
// writing them is org-admin's only.
func anyRole() []store.Role {
	return []store.Role{store.RoleAuditLogAdmin, store.RolePortalAdmin, store.RoleReadOnly}
}

type keyRow struct {
	ID, Created, Retired string
	Active               bool
}

func (h *Handler) pageKeys(w http.ResponseWriter, r *http.Request, u store.User) {
	d := h.newPage(w, r, u, "Signing keys")
	if r.URL.Query().Get("m") == "rotated" {
		d.Notice = "The signing key was rotated."
	}
	h.renderKeys(w, r, u, d, http.StatusOK)
}

func (h *Handler) renderKeys(w http.ResponseWriter, r *http.Request, u store.User, d pageData, status int) {
	var rows []keyRow
	err := h.audited(r, u, resKeys, audit.ActionList, anyRole(), func(context.Context) error {
		if h.keys == nil {
			return apperr.New(apperr.Unavailable, "This server has no keyring.")
		}
		for _, k := range h.keys.Keys() {
			row := keyRow{ID: k.ID, Created: k.CreatedAt.UTC().Format(time.RFC3339), Active: k.Active()}
			if !row.Active {
				row.Retired = k.RetiredAt.UTC().Format(time.RFC3339)
			}
			rows = append(rows, row)
		}
		return nil
	})
	if err != nil && d.Error == "" {
		status = h.showError(r, &d, err)
	}
	d.Data = rows
	h.render(w, r, status, "keys", d)
}

func (h *Handler) pageKeysRotate(w http.ResponseWriter, r *http.Request, u store.User) {
	d := h.newPage(w, r, u, "Signing keys")
	if r.PostForm.Get("confirm") != "yes" {
		d.FieldErrors["confirm"] = "Tick the box to confirm the rotation."
		d.Error = "Nothing was changed: the rotation was not confirmed."
		h.renderKeys(w, r, u, d, http.StatusBadRequest)
		return
	}
	err := h.audited(r, u, resKeys, audit.ActionEdit, nil, func(ctx context.Context) error {
		if h.keys == nil {
			return apperr.New(apperr.Unavailable, "This server has no keyring.")
		}
		if err := h.soleOrg(ctx, u); err != nil {
			return err
		}
		_, err := h.keys.Rotate(ctx)
		return err
	})
	if err != nil {
		h.renderKeys(w, r, u, d, h.showError(r, &d, err))
		return
	}
	http.Redirect(w, r, "/keys?m=rotated", http.StatusSeeOther)
}

// tokenRow is one token on the Tokens page. Owner is the email of the
// user who owns it (shown to org-admins and to the owner; other roles
// see "another user"), or empty for an org-level token.
type tokenRow struct{ ID, Name, Role, Created, Expires, Owner string }

type tokensData struct {
	Tokens             []tokenRow
	Roles              []string
	Secret, SecretName string
}

func (h *Handler) pageTokens(w http.ResponseWriter, r *http.Request, u store.User) {
	d := h.newPage(w, r, u, "API tokens")
	d.Fields["role"], d.Fields["expires"], d.Fields["owner"] = string(store.RoleReadOnly), "90", ownerMe
	if r.URL.Query().Get("m") == "revoked" {
		d.Notice = "The token was revoked."
	}
	h.renderTokens(w, r, u, d, http.StatusOK, tokensData{})
}

func (h *Handler) renderTokens(w http.ResponseWriter, r *http.Request, u store.User, d pageData, status int, td tokensData) {
	td.Roles = tenancy.RoleNames()
	err := h.audited(r, u, resTokens, audit.ActionList, anyRole(), func(ctx context.Context) error {
		ts, err := h.st.ListTokens(ctx, u.OrgID)
		if err != nil {
			return err
		}
		emails := map[string]string{}
		if u.Role == store.RoleOrgAdmin {
			us, err := h.st.ListUsers(ctx, u.OrgID)
			if err != nil {
				return err
			}
			for _, x := range us {
				emails[x.ID] = x.Email
			}
		}
		emails[u.ID] = u.Email
		for _, t := range ts {
			row := tokenRow{ID: t.ID, Name: t.Name, Role: string(t.Role), Created: t.CreatedAt.UTC().Format(time.RFC3339)}
			if !t.ExpiresAt.IsZero() {
				row.Expires = t.ExpiresAt.UTC().Format(time.RFC3339)
			}
			if t.OwnerUserID != "" {
				row.Owner = emails[t.OwnerUserID]
				if row.Owner == "" {
					row.Owner = "another user"
				}
			}
			td.Tokens = append(td.Tokens, row)
		}
		return nil
	})
	if err != nil && d.Error == "" {
		status = h.showError(r, &d, err)
	}
	d.Data = td
	h.render(w, r, status, "tokens", d)
}

// Owners a token created on the console may have (the form's owner).
const (
	// ownerMe: the creating user's token, revoked when the user is
	// disabled.
	ownerMe = "me"
	// ownerOrg: an org-level token owned by no user, which outlives its
	// creator's account (producer and ingest services).
	ownerOrg = "org"
)

// pageTokenCreate creates an API token owned by the user (the default) or,
// for an org admin, an org-level one. The authorization entry names which:
// Authz.tokens for the user's, Authz.org-tokens for an org-level token.
func (h *Handler) pageTokenCreate(w http.ResponseWriter, r *http.Request, u store.User) {
	d := h.newPage(w, r, u, "API tokens")
	name, role, expires := strings.TrimSpace(r.PostForm.Get("name")), r.PostForm.Get("role"), r.PostForm.Get("expires")
	owner := r.PostForm.Get("owner")
	if owner == "" {
		owner = ownerMe
	}
	d.Fields["name"], d.Fields["role"], d.Fields["expires"], d.Fields["owner"] = name, role, expires, owner
	resource := resTokens
	if owner == ownerOrg {
		resource = resOrgTokens
	}
	var secret string
	// Both resources are granted to org admins only (no other role).
	err := h.audited(r, u, resource, audit.ActionCreate, nil, func(ctx context.Context) error {
		days, err := strconv.Atoi(expires)
		if err != nil || days < 0 || days > 3650 {
			return apperr.InvalidField("body", "expires", "invalid", "must be a whole number of days from 0 to 3650")
		}
		spec := tenancy.TokenSpec{OrgID: u.OrgID, Name: name, Role: store.Role(role), TTL: time.Duration(days) * 24 * time.Hour}
		switch owner {
		case ownerMe:
			// The token is the user's: disabling the user revokes it.
			spec.OwnerUserID = u.ID
		case ownerOrg:
			if u.Role != store.RoleOrgAdmin {
				return apperr.New(apperr.Forbidden, "Only org admins create org tokens.")
			}
		default:
			return apperr.InvalidField("body", "owner", "enum", "must be me or org")
		}
		_, secret, err = h.tenancy.CreateToken(ctx, spec)
		return err
	})
	if err != nil {
		h.renderTokens(w, r, u, d, h.showError(r, &d, err), tokensData{})
		return
	}
	// The secret is shown on this answer only (no redirect carries it).
	// The next token is again the user's unless chosen otherwise.
	d.Fields["name"], d.Fields["owner"] = "", ownerMe
	d.Notice = ""
	h.renderTokens(w, r, u, d, http.StatusCreated, tokensData{Secret: secret, SecretName: name})
}

func (h *Handler) pageTokenRevoke(w http.ResponseWriter, r *http.Request, u store.User) {
	err := h.audited(r, u, resTokens, audit.ActionDelete, nil, func(ctx context.Context) error {
		return h.st.DeleteToken(ctx, u.OrgID, r.PathValue("id"))
	})
	if err != nil {
		d := h.newPage(w, r, u, "API tokens")
		h.renderTokens(w, r, u, d, h.showError(r, &d, err), tokensData{})
		return
	}
	http.Redirect(w, r, "/tokens?m=revoked", http.StatusSeeOther)
}

type userRow struct {
	store.User
	Locked bool
	// Tokens is the number of API tokens the user owns: those disabling
	// the user revokes.
	Tokens int
}

type usersData struct {
	Users []userRow
	Roles []string
}

func (h *Handler) pageUsers(w http.ResponseWriter, r *http.Request, u store.User) {
	d := h.newPage(w, r, u, "Users")
	d.Fields["role"] = string(store.RoleReadOnly)
	switch r.URL.Query().Get("m") {
	case "created":
		d.Notice = "The user was created."
	case "saved":
		d.Notice = "The user was changed."
	case "locked-elsewhere":
		d.Notice = "The lockout was not cleared: this person also uses other orgs on this server, which the lock protects too. " +
			"It ends by itself, or when the person sets a new password through an emailed link."
	case "disabled":
		d.Notice = "The user was disabled."
		// n only words the notice; the revocations are in the org log.
		if n, err := strconv.Atoi(r.URL.Query().Get("revoked")); err == nil && n >= 0 {
			d.Notice = revokedNotice(n)
		}
	}
	h.renderUsers(w, r, u, d, http.StatusOK)
}

// lockedSinceJoined reports whether u's person is locked at now by a lock
// that began after u joined the org. The lock is the person's, in every
// org; one that began before would tell an org that adds an address that
// the address already had an identity, which it must not learn.
func (h *Handler) lockedSinceJoined(u store.User, now time.Time) bool {
	return now.Before(u.LockedUntil) && u.LockedUntil.Add(-h.cfg.Lockout.Duration).After(u.CreatedAt)
}

// revokedNotice is the notice after disabling a user whose n API tokens
// were revoked with it.
func revokedNotice(n int) string {
	switch n {
	case 0:
		return "The user was disabled; the user owned no API token."
	case 1:
		return "The user was disabled; the 1 API token the user owned was revoked."
	}
	return "The user was disabled; the " + strconv.Itoa(n) + " API tokens the user owned were revoked."
}

func (h *Handler) renderUsers(w http.ResponseWriter, r *http.Request, u store.User, d pageData, status int) {
	var ud usersData
	for _, role := range UserRoles() {
		ud.Roles = append(ud.Roles, string(role))
	}
	err := h.audited(r, u, resUsers, audit.ActionList, nil, func(ctx context.Context) error {
		us, err := h.st.ListUsers(ctx, u.OrgID)
		if err != nil {
			return err
		}
		ts, err := h.st.ListTokens(ctx, u.OrgID)
		if err != nil {
			return err
		}
		owned := map[string]int{}
		for _, t := range ts {
			if t.OwnerUserID != "" {
				owned[t.OwnerUserID]++
			}
		}
		now := h.clk.Now()
		for _, x := range us {
			ud.Users = append(ud.Users, userRow{User: x, Locked: h.lockedSinceJoined(x, now), Tokens: owned[x.ID]})
		}
		return nil
	})
	if err != nil {
		if apperr.Is(err, apperr.Forbidden) {
			h.message(w, r, u, http.StatusForbidden, "Users", "Only org admins manage users.")
			return
		}
		if d.Error == "" {
			status = h.showError(r, &d, err)
		}
	}
	d.Data = ud
	h.render(w, r, status, "users", d)
}

func (h *Handler) pageUserCreate(w http.ResponseWriter, r *http.Request, u store.User) {
	d := h.newPage(w, r, u, "Users")
	spec := UserSpec{OrgID: u.OrgID, Email: strings.TrimSpace(r.PostForm.Get("email")), Role: store.Role(r.PostForm.Get("role")),
		Password: r.PostForm.Get("password")}
	d.Fields["email"], d.Fields["role"] = spec.Email, string(spec.Role)
	err := h.audited(r, u, resUsers, audit.ActionCreate, nil, func(ctx context.Context) error {
		return h.createUser(ctx, spec)
	})
	if err != nil {
		h.renderUsers(w, r, u, d, h.showError(r, &d, err))
		return
	}
	http.Redirect(w, r, "/users?m=created", http.StatusSeeOther)
}

// pageUserChange disables, enables or unlocks a user. Disabling ends the
// user's sessions and revokes the API tokens the user owns, in one store
// transaction, and records each revocation in the org log naming the
// acting user; enabling again restores none of them. Nobody disables
// themself.
func (h *Handler) pageUserChange(w http.ResponseWriter, r *http.Request, u store.User) {
	id, op := r.PathValue("id"), r.PathValue("op")
	revokedN := -1
	shared := false
	err := h.audited(r, u, resUsers, audit.ActionEdit, nil, func(ctx context.Context) error {
		x, err := h.st.GetUser(ctx, u.OrgID, id)
		if err != nil {
			return err
		}
		switch op {
		case "disable", "enable":
			if x.ID == u.ID {
				return apperr.New(apperr.Conflict, "You cannot disable yourself.")
			}
			if op == "disable" {
				revoked, err := h.st.DisableUser(ctx, u.OrgID, x.ID, h.clk.Now().UTC())
				if err != nil {
					return err
				}
				h.recordRevocations(r, u, revoked)
				revokedN = len(revoked)
				return nil
			}
			x.Disabled = false
			x.UpdatedAt = h.clk.Now().UTC()
			return h.st.UpdateUser(ctx, x)
		case "unlock":
			var err error
			shared, err = h.unlock(ctx, r, x)
			return err
		}
		return apperr.New(apperr.NotFound, "No such action.")
	})
	if err != nil {
		d := h.newPage(w, r, u, "Users")
		h.renderUsers(w, r, u, d, h.showError(r, &d, err))
		return
	}
	switch {
	case revokedN >= 0:
		http.Redirect(w, r, "/users?m=disabled&revoked="+strconv.Itoa(revokedN), http.StatusSeeOther)
	case shared:
		http.Redirect(w, r, "/users?m=locked-elsewhere", http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/users?m=saved", http.StatusSeeOther)
	}
}

// unlock clears the lock of x's person, which holds in every org, only
// when every enabled user of the person is in x's org: otherwise any org
// that adds an address could clear the lock that guards the person's
// other orgs after each few guesses. Then it does nothing and says so
// (shared), but only while this org is shown the lock (lockedSinceJoined),
// so an org learns that the person has other orgs only after locking
// them, which every one of those orgs sees recorded. A clear is recorded
// in the person's other orgs too.
func (h *Handler) unlock(ctx context.Context, r *http.Request, x store.User) (shared bool, err error) {
	users, err := h.st.ListIdentityUsers(ctx, x.IdentityID)
	if err != nil {
		return false, err
	}
	if slices.ContainsFunc(users, func(o store.User) bool { return !o.Disabled && o.OrgID != x.OrgID }) {
		return h.lockedSinceJoined(x, h.clk.Now()), nil
	}
	if err := h.st.ClearIdentityLoginFailures(ctx, x.IdentityID); err != nil {
		return false, err
	}
	h.recordForOtherOrgs(r, x.OrgID, users)
	return false, nil
}

// recordForOtherOrgs records, in the org of each of users but the acting
// org's, an edit of that org's user of the person (its principal: the
// actor is another org's, whom it does not name); for a change to the
// person that reaches every org, such as a lock cleared or a password
// set. The change is made whatever happens here; an entry that cannot be
// recorded is logged as lost.
func (h *Handler) recordForOtherOrgs(r *http.Request, actingOrg string, users []store.User) {
	var es []audit.Entry
	for _, o := range users {
		if o.OrgID == actingOrg {
			continue
		}
		e := h.entry(r, audit.KindAuthorization, o)
		e.ClassID = audit.AuthzClassID
		e.Name = audit.AuthzNamePrefix + resUsers
		e.Action = audit.ActionEdit
		e.Granted = true
		es = append(es, e)
	}
	if len(es) == 0 {
		return
	}
	if err := h.recordEntries(r.Context(), es...); err != nil {
		h.log.Error("console: entries of a change to the person lost in their other orgs", "trace_id", info(r).trace, "err", err)
	}
}

// soleOrg refuses a key rotation unless u's org is the only one on the
// server (besides the reserved system org): the signing keys are the
// server's, so on a server shared by several orgs one org's admin must not
// rotate the keys every org's lines are signed with. The operator rotates
// them there with `sigtrail keys rotate`.
func (h *Handler) soleOrg(ctx context.Context, u store.User) error {
	orgs, err := h.st.ListOrgs(ctx)
	if err != nil {
		return err
	}
	for _, o := range orgs {
		if o.ID != u.OrgID && o.Name != tenancy.SystemOrgName {
			return apperr.New(apperr.Forbidden, "The signing keys are shared by every org on this server; "+
				"the server's operator rotates them (sigtrail keys rotate).")
		}
	}
	return nil
}

// recordRevocations appends the entries of tokens revoked with their
// owner, naming the acting user u. The tokens are gone whatever happens
// here; an entry that cannot be recorded is logged as lost, as audited
// does with an access entry.
func (h *Handler) recordRevocations(r *http.Request, u store.User, revoked []store.Token) {
	if len(revoked) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
	defer cancel()
	base := h.entry(r, audit.KindAuthorization, u)
	base.CapClientText()
	if _, err := h.rec.Record(ctx, tenancy.RevocationEntries(base, revoked)); err != nil {
		ids := make([]string, len(revoked))
		for i, t := range revoked {
			ids[i] = t.ID
		}
		h.log.Error("console: revocation entries lost", "trace_id", info(r).trace, "user_id", u.ID, "tokens", ids, "err", err)
	}
}
