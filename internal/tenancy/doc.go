// Package tenancy is sigtrail's account model: orgs and the bearer tokens
// that act for them. Secrets carry a recognisable prefix (stpat_ for
// personal tokens, stspat_ for system tokens) so leaked ones are easy to
// find, and only their SHA-256 is stored. Authenticate tells the caller why
// a secret failed (unknown or expired) so the audit log can say so, while
// the user only ever sees "invalid credentials".
package tenancy
