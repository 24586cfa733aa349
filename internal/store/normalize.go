package store

import (
	"strings"

	"github.com/sigtrail/sigtrail/internal/apperr"
)

// EmailKey is how developer and console identity emails are compared, in
// every backend:
// case-insensitively, by Unicode lower case (not a database's ASCII-only
// lower()).
func EmailKey(email string) string { return strings.ToLower(email) }

// EmailKeySafe reports whether email's key (Unicode lower case) is its
// ASCII-only lower case: an address where they differ ("bob@bİgcorp.com",
// keyed "bob@bigcorp.com") could share the key, and so the identity, of a
// different mailbox. New console users with such an address are refused;
// keys already stored stay as they are.
func EmailKeySafe(email string) bool {
	ascii := []byte(email)
	for i, c := range ascii {
		if 'A' <= c && c <= 'Z' {
			ascii[i] = c + 'a' - 'A'
		}
	}
	return EmailKey(email) == string(ascii)
}

// NormalizePortal lower-cases a portal's domains and drops a custom domain
// equal to the default one, as every backend stores them; a portal
// without a default domain is Invalid.
func NormalizePortal(p *Portal) error {
	p.DefaultDomain = strings.ToLower(p.DefaultDomain)
	p.CustomDomain = strings.ToLower(p.CustomDomain)
	if p.DefaultDomain == "" {
		return apperr.New(apperr.Invalid, "portal has no default domain")
	}
	if p.CustomDomain == p.DefaultDomain {
		p.CustomDomain = ""
	}
	return nil
}

// ActiveReplayStatus reports whether a job in this status still holds its
// stream (accepted, pending or running): another may not replace it.
func ActiveReplayStatus(status string) bool {
	switch status {
	case JobAccepted, JobPending, JobRunning:
		return true
	}
	return false
}
