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
}

// The two token tables.
var (
	DeveloperTokens = TokenTable{Table: "developer_tokens", Owner: "developer_id", Scope: "portal_id",
		What: "developer token", ZeroNeverExpires: true}
	UserTokens = TokenTable{Table: "user_tokens", Owner: "user_id", Scope: "org_id", What: "user token"}
)

// Cols lists the table's columns in the order ScanToken reads them.
func (tt TokenTable) Cols() string {
	return "hash, " + tt.Owner + ", " + tt.Scope + ", purpose, created_at, expires_at"
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
}

// Args are the row's values in Cols order.
func (r TokenRow) Args() []any {
	return []any{r.Hash, r.Owner, r.Scope, r.Purpose, ToNS(r.Created), ToNS(r.Expires)}
}

// ScanToken reads a row selected with Cols.
func ScanToken(sc interface{ Scan(...any) error }) (TokenRow, error) {
	var r TokenRow
	var created, expires int64
	err := sc.Scan(&r.Hash, &r.Owner, &r.Scope, &r.Purpose, &created, &expires)
	r.Created, r.Expires = FromNS(created), FromNS(expires)
	return r, err
}

// DeveloperTokenRow is t as a row of DeveloperTokens.
func DeveloperTokenRow(t store.DeveloperToken) TokenRow {
	return TokenRow{Hash: t.Hash, Owner: t.DeveloperID, Scope: t.PortalID, Purpose: t.Purpose, Created: t.CreatedAt, Expires: t.ExpiresAt}
}

// DeveloperToken is the row as a developer's token.
func (r TokenRow) DeveloperToken() store.DeveloperToken {
	return store.DeveloperToken{Hash: r.Hash, DeveloperID: r.Owner, PortalID: r.Scope, Purpose: r.Purpose, CreatedAt: r.Created, ExpiresAt: r.Expires}
}

// UserTokenRow is t as a row of UserTokens.
func UserTokenRow(t store.UserToken) TokenRow {
	return TokenRow{Hash: t.Hash, Owner: t.UserID, Scope: t.OrgID, Purpose: t.Purpose, Created: t.CreatedAt, Expires: t.ExpiresAt}
}

// UserToken is the row as an org user's token.
func (r TokenRow) UserToken() store.UserToken {
	return store.UserToken{Hash: r.Hash, UserID: r.Owner, OrgID: r.Scope, Purpose: r.Purpose, CreatedAt: r.Created, ExpiresAt: r.Expires}
}
