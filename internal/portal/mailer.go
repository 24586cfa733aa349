package portal

import (
	"context"
	"log/slog"
	"strings"
)

// Mailer sends one plain-text email. Implementations: smtpmail.Mailer for a
// real SMTP relay, LogMailer for local trials.
type Mailer interface {
	Send(ctx context.Context, to, subject, text string) error
}

// reachesPeople reports whether m delivers email to its recipients: false
// for LogMailer (and an Outbox in front of one), whose emails only reach the
// server log, so pages must not say an email was sent.
func reachesPeople(m Mailer) bool {
	switch m := m.(type) {
	case LogMailer:
		return false
	case *Outbox:
		return reachesPeople(m.relay)
	}
	return true
}

// LogMailer writes each email to the logger instead of sending it, so a
// local trial can follow its link from the server log. The link also gets
// an attribute of its own ("link") for scripts.
type LogMailer struct{ Logger *slog.Logger }

// Send logs the email.
func (m LogMailer) Send(ctx context.Context, to, subject, text string) error {
	m.Logger.InfoContext(ctx, "email not sent (no SMTP server configured)",
		"to", to, "subject", subject, "link", firstLink(text), "text", text)
	return nil
}

// firstLink returns the first http(s) URL of text, or "".
func firstLink(text string) string {
	for _, f := range strings.Fields(text) {
		if strings.HasPrefix(f, "http://") || strings.HasPrefix(f, "https://") {
			return f
		}
	}
	return ""
}
