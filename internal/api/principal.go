package api

import (
	"context"

	"github.com/sigtrail/sigtrail/internal/store"
)

// Principal is an org user the console authenticated by its session. A
// request whose context carries one (WithPrincipal) is served as that
// user's: no bearer token is read and no authentication entry is written
// (the log-in was audited), while authorization and access entries are
// written as for any request, naming the user. Only code in this process
// can put a value in a request's context, so no client can claim one.
type Principal struct {
	UserID string
	OrgID  string
	Role   store.Role
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// sessionPrincipal sets the call's token from the context's Principal and
// reports whether there was one.
func (c *call) sessionPrincipal() bool {
	p, ok := c.ctx().Value(principalKey{}).(Principal)
	if !ok || p.UserID == "" || p.OrgID == "" {
		return false
	}
	c.token = store.Token{ID: p.UserID, OrgID: p.OrgID, Role: p.Role}
	c.org, c.auditOrg = p.OrgID, p.OrgID
	return true
}
