package server

import (
	"fmt"
	"log/slog"

	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/portal"
	"github.com/sigtrail/sigtrail/internal/portal/smtpmail"
)

// newMailer picks the SMTP relay when one is configured, else the log.
func newMailer(cfg Config, clk clock.Clock, log *slog.Logger) (portal.Mailer, error) {
	if cfg.SMTPURL == "" {
		return portal.LogMailer{Logger: log}, nil
	}
	m, err := smtpmail.New(cfg.SMTPURL, cfg.SMTPFrom, clk)
	if err != nil {
		return nil, fmt.Errorf("--smtp-url: %w", err)
	}
	return m, nil
}
