package console

import (
	"context"
	"net/http"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// Resources of the console's own actions (those the API has no operation
// for), as their authorization entries name them (Authz.<resource>).
const (
	resUsers  = "users"
	resTokens = "tokens"
	// resOrgTokens: the creation of an org-level token, owned by no user.
	resOrgTokens = "org-tokens"
	resKeys      = "audit-log-signing-keys"
	resLockouts  = "portal-developer-lockouts"
)

// audited runs a console action the API has no operation for, audited as
// the API audits its requests: an authorization entry (granted when the
// user is org-admin or has one of roles) durable before the action, and
// an access entry with the outcome after it, both naming the user.
func (h *Handler) audited(r *http.Request, u store.User, resource, action string, roles []store.Role, do func(ctx context.Context) error) error {
	granted := allowed(u.Role, roles...)
	e := h.entry(r, audit.KindAuthorization, u)
	e.ClassID = audit.AuthzClassID
	e.Name = audit.AuthzNamePrefix + resource
	e.Action = action
	e.Granted = granted
	if err := h.recordEntries(r.Context(), e); err != nil {
		return apperr.New(apperr.Unavailable, "The audit log is unavailable; nothing was done, try again later.")
	}
	var err error = apperr.New(apperr.Forbidden, "You do not have permission to perform this action.")
	if granted {
		err = do(r.Context())
	}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	if err != nil {
		status = apperr.HTTPStatus(apperr.CodeOf(err))
	}
	a := h.entry(r, audit.KindAccess, u)
	a.ClassID = audit.AccessClassGateway
	a.Name = audit.AccessName
	a.Request = r.URL.Path
	a.Query = r.URL.RawQuery
	a.Act = r.Method
	a.Status = status
	if rerr := h.recordEntries(r.Context(), a); rerr != nil {
		h.log.Error("console: access entry lost", "trace_id", info(r).trace, "err", rerr)
		if err == nil && r.Method == http.MethodGet {
			return apperr.New(apperr.Unavailable, "The audit log is unavailable; try again later.")
		}
	}
	return err
}
