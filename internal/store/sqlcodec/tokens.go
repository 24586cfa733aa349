package sqlcodec

import (
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

// TokenTable is a table of one-time tokens kept only as hashes, for
// someone (Owner) within a scope: developers' tokens in a portal and org
// users' set-password links in an org have one shape and one set of rules,
// in both SQL backends.
type TokenTable struct {
	Table, Owner, Scope string // table and column names
	What                string // names the token in errors
	// ZeroNeverExpires: a zero expiry survives the sweep of expired tokens.
	ZeroNeverExpires bool
	// Session names the column of the session a token belongs to (the
	// access and refresh tokens of one Dev Portal log-in share it); ""
	// for a table without one.
	Session string
}

// The two token tables.
var (
	DeveloperTokens = TokenTable{Table: "developer_tokens", Owner: "developer_id", Scope: "portal_id",
		What: "developer token", ZeroNeverExpires: true, Session: "session_id"}
	UserTokens = TokenTable{Table: "user_tokens", Owner: "user_id", Scope: "org_id", What: "user token"}
)

// Cols lists the table's columns in the order Scan reads them.
func (tt TokenTable) Cols() string {
	c := "hash, " + tt.Owner + ", " + tt.Scope + ", purpose, created_at, expires_at"
	if tt.Session != "" {
		c += ", " + tt.Session
	}
	return c
}

// NCols is the number of columns Cols lists.
func (tt TokenTable) NCols() int {
	if tt.Session != "" {
		return 7
	}
	return 6
}

// Expired is the condition of the tokens expired at the query's argument
// ph (a placeholder: ? or $1).
func (tt TokenTable) Expired(ph string) string {
	if tt.ZeroNeverExpires {
		return "expires_at <> 0 AND expires_at <= " + ph
	}
	return "expires_at <= " + ph
}

// TokenRow is one row of a TokenTable.
type TokenRow struct {
	Hash                  []byte
	Owner, Scope, Purpose string
	Created, Expires      time.Time
	Session               string // "" in a table without sessions
}

// Args are r's values in Cols order.
func (tt TokenTable) Args(r TokenRow) []any {
	a := []any{r.Hash, r.Owner, r.Scope, r.Purpose, ToNS(r.Created), ToNS(r.Expires)}
	if tt.Session != "" {
		a = append(a, r.Session)
	}
	return a
}

// Scan reads a row selected with Cols.
func (tt TokenTable) Scan(sc interface{ Scan(...any) error }) (TokenRow, error) {
	var r TokenRow
	var created, expires int64
	dst := []any{&r.Hash, &r.Owner, &r.Scope, &r.Purpose, &created, &expires}
	if tt.Session != "" {
		dst = append(dst, &r.Session)
	}
	err := sc.Scan(dst...)
	r.Created, r.Expires = FromNS(created), FromNS(expires)
	return r, err
}

// DeveloperTokenRow is t as a row of DeveloperTokens.
func DeveloperTokenRow(t store.DeveloperToken) TokenRow {
	return TokenRow{Hash: t.Hash, Owner: t.DeveloperID, Scope: t.PortalID, Purpose: t.Purpose, Created: t.CreatedAt, Expires: t.ExpiresAt, Session: t.SessionID}
}

// DeveloperToken is the row as a developer's token.
func (r TokenRow) DeveloperToken() store.DeveloperToken {
	return store.DeveloperToken{Hash: r.Hash, DeveloperID: r.Owner, PortalID: r.Scope, Purpose: r.Purpose, CreatedAt: r.Created, ExpiresAt: r.Expires, SessionID: r.Session}
}

// UserTokenRow is t as a row of UserTokens.
func UserTokenRow(t store.UserToken) TokenRow {
	return TokenRow{Hash: t.Hash, Owner: t.UserID, Scope: t.OrgID, Purpose: t.Purpose, Created: t.CreatedAt, Expires: t.ExpiresAt}
}

// UserToken is the row as an org user's token.
func (r TokenRow) UserToken() store.UserToken {
	return store.UserToken{Hash: r.Hash, UserID: r.Owner, OrgID: r.Scope, Purpose: r.Purpose, CreatedAt: r.Created, ExpiresAt: r.Expires}
}
