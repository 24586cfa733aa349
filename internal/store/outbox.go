package store

import (
	"context"
	"github.com/sigtrail/sigtrail/internal/apperr"
	"slices"
	"strings"
	"time"
)

// QueuedMail is one email waiting in the outbox: stored before the request
// that caused it is answered, so an SMTP outage delays the email instead of
// changing the answer, and a restart does not lose it.
type QueuedMail struct {
	ID        string
	To        string
	Subject   string
	Text      string
	CreatedAt time.Time
	// Attempts counts the failed attempts so far.
	Attempts int
	// NextAttempt is when the mail may be sent (again).
	NextAttempt time.Time
	// LastError is why the last attempt failed, for operators.
	LastError string
}

// MailOutbox queues Dev Portal email durably. Senders on several replicas
// share one outbox: a mail is claimed by one sender at a time, so no mail is
// sent twice while its claim holds.
type MailOutbox interface {
	// QueueMail stores m (with its ID set by the caller) to be sent at
	// m.NextAttempt or later, unless the outbox already holds lim.Total
	// mails or lim.PerRecipient mails to m.To: then it stores nothing and
	// returns ErrOutboxFull. The check and the insert are one statement;
	// concurrent writers may pass a limit by the number of them.
	QueueMail(ctx context.Context, m QueuedMail, lim MailLimits) error
	// ClaimMail claims up to limit mails that are due at now and not claimed
	// by another sender (or whose claim expired), for owner until
	// now+lease, and returns them, oldest first. Concurrent callers on any
	// handle never get the same mail while its claim holds.
	ClaimMail(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]QueuedMail, error)
	// DeleteMail removes a sent mail. It is a NotFound when owner no longer
	// holds the claim (it expired and another sender took the mail).
	DeleteMail(ctx context.Context, owner, id string) error
	// RetryMail releases owner's claim after a failed attempt: one more
	// attempt counted, the error kept, the mail due again at next. NotFound
	// when owner no longer holds the claim.
	RetryMail(ctx context.Context, owner, id string, next time.Time, lastErr string) error
}

// MailLimits bound what the outbox holds, so a flood of sign-ups to many
// addresses (each one allowed by the per-client rate limit) or to one
// victim's cannot grow it, or one inbox's share of it, without end. Zero
// means no limit.
type MailLimits struct {
	Total        int
	PerRecipient int
}

// ErrOutboxFull is a mail refused by MailLimits.
var ErrOutboxFull = apperr.New(apperr.Unavailable, "the mail outbox is full")

// SortQueuedMail orders mails oldest due first, as ClaimMail returns them.
func SortQueuedMail(ms []QueuedMail) {
	slices.SortFunc(ms, func(a, b QueuedMail) int {
		if c := a.NextAttempt.Compare(b.NextAttempt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
