package portal

import (
	"context"
	"log/slog"
)

// Mailer sends one plain-text email. Implementations: smtpmail.Mailer for a
// real SMTP relay, LogMailer for local trials.
type Mailer interface {
	Send(ctx context.Context, to, subject, text string) error
}

// LogMailer writes each email, link included, to the logger instead of
// sending it, so a local trial can follow the link from the server log.
type LogMailer struct{ Logger *slog.Logger }

// Send logs the email.
func (m LogMailer) Send(ctx context.Context, to, subject, text string) error {
	m.Logger.InfoContext(ctx, "email not sent (no SMTP server configured)", "to", to, "subject", subject, "text", text)
	return nil
}
