package sealing

import (
	"context"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

// A queued mail's text carries one-time links (email verification,
// password reset) whose tokens are otherwise stored only as hashes, and
// it may wait in the outbox for a day while SMTP is down: it is sealed
// like the other secrets.
func mailContext(m store.QueuedMail) string { return "mail/" + m.ID + "/text" }

func (s *Store) QueueMail(ctx context.Context, m store.QueuedMail, lim store.MailLimits) error {
	if s.keys != nil {
		m.Text = s.keys.Seal([]byte(m.Text), mailContext(m))
	}
	return s.Store.QueueMail(ctx, m, lim)
}

// ClaimMail opens the claimed mails' text. A mail that cannot be opened
// (its key was removed from the key file) can never be sent: it is
// dropped with an error log rather than claimed again forever.
func (s *Store) ClaimMail(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]store.QueuedMail, error) {
	ms, err := s.Store.ClaimMail(ctx, owner, now, lease, limit)
	if err != nil {
		return nil, err
	}
	out := ms[:0]
	for _, m := range ms {
		plain, _, err := s.keys.Open(m.Text, mailContext(m))
		if err != nil {
			s.log.Error("cannot open a sealed queued mail; dropping it", "mail_id", m.ID, "err", err)
			if derr := s.Store.DeleteMail(ctx, owner, m.ID); derr != nil {
				s.log.Error("drop queued mail", "mail_id", m.ID, "err", derr)
			}
			continue
		}
		m.Text = string(plain)
		out = append(out, m)
	}
	return out, nil
}
