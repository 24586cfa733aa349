package portal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
)

// Outbox is the portal's Mailer when mail must not depend on the relay
// being up: Send only queues the mail in the store, so a request is
// answered the same whether or not the relay answers (and whether or not
// the address has an account), and Run delivers the queue with retries.
// Several replicas' outboxes share one queue; each mail is claimed by one
// of them at a time (store.MailOutbox), so none is sent twice while its
// claim holds.
type Outbox struct {
	st    store.MailOutbox
	relay Mailer
	clk   clock.Clock
	log   *slog.Logger
	cfg   OutboxConfig
	owner string        // this sender's claim name
	wake  chan struct{} // a mail was queued here: deliver without waiting for the poll
}

// OutboxConfig tunes the sender; zero fields take the defaults.
type OutboxConfig struct {
	// Poll is how often the queue is looked at for mail that other
	// replicas queued or that is due for a retry. Default 5s.
	Poll time.Duration
	// MinBackoff and MaxBackoff bound the wait before a failed mail is
	// tried again, doubling from MinBackoff. Default 10s and 10m.
	MinBackoff, MaxBackoff time.Duration
	// MaxAge drops a mail that could not be sent for this long: its links
	// have expired by then (verification links last a day). Default 24h.
	MaxAge time.Duration
	// SendTimeout bounds one attempt; the claim lasts four times as long,
	// so a claim never expires while its attempt may still succeed.
	// Default 1m.
	SendTimeout time.Duration
	// Limits bound the queue: a flood of sign-ups (to many addresses, each
	// within the per-client rate limit, or to one victim's) cannot grow it
	// without end while SMTP is slow or down. Past a limit the mail is
	// dropped and counted; the request is answered as if it were queued,
	// since the answer must not depend on mail. Default 10,000 mails, 5
	// to one address.
	Limits store.MailLimits
	// Dropped, when set, hears of each mail dropped by Limits (a metric).
	Dropped func()
}

func (c OutboxConfig) withDefaults() OutboxConfig {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Poll, 5*time.Second)
	def(&c.MinBackoff, 10*time.Second)
	def(&c.MaxBackoff, 10*time.Minute)
	def(&c.MaxAge, 24*time.Hour)
	def(&c.SendTimeout, time.Minute)
	if c.Limits == (store.MailLimits{}) {
		c.Limits = store.MailLimits{Total: 10000, PerRecipient: 5}
	}
	return c
}

// NewOutbox returns an outbox that queues in st and delivers through relay.
func NewOutbox(cfg OutboxConfig, st store.MailOutbox, relay Mailer, clk clock.Clock, log *slog.Logger) *Outbox {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &Outbox{st: st, relay: relay, clk: clk, log: log, cfg: cfg.withDefaults(),
		owner: "outbox-" + hex.EncodeToString(b[:]), wake: make(chan struct{}, 1)}
}

// Send queues the mail, durably, and wakes the sender.
func (o *Outbox) Send(ctx context.Context, to, subject, text string) error {
	id, err := uuid.NewV7()
	if err != nil {
		return apperr.Wrap(err, "mail id")
	}
	now := o.clk.Now().UTC()
	err = o.st.QueueMail(ctx, store.QueuedMail{ID: id.String(), To: to, Subject: subject, Text: text,
		CreatedAt: now, NextAttempt: now}, o.cfg.Limits)
	if errors.Is(err, store.ErrOutboxFull) {
		o.log.Warn("portal: mail outbox full; mail dropped", "subject", subject,
			"max_total", o.cfg.Limits.Total, "max_per_recipient", o.cfg.Limits.PerRecipient)
		if o.cfg.Dropped != nil {
			o.cfg.Dropped()
		}
		return nil
	}
	if err != nil {
		return err
	}
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return nil
}

// Run delivers queued mail until ctx ends.
func (o *Outbox) Run(ctx context.Context) error {
	for {
		for o.deliver(ctx) > 0 && ctx.Err() == nil {
			// a full batch: there may be more
		}
		t := o.clk.NewTimer(o.cfg.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-o.wake:
			t.Stop()
		case <-t.C():
		}
	}
}

// outboxBatch is how many mails one pass claims.
const outboxBatch = 10

// deliver claims the due mails and tries each once; it returns how many it
// claimed when that was a full batch, else 0.
func (o *Outbox) deliver(ctx context.Context) int {
	now := o.clk.Now().UTC()
	ms, err := o.st.ClaimMail(ctx, o.owner, now, 4*o.cfg.SendTimeout, outboxBatch)
	if err != nil {
		if ctx.Err() == nil {
			o.log.Error("mail outbox: claim", "err", err)
		}
		return 0
	}
	for _, m := range ms {
		o.deliverOne(ctx, m)
	}
	if len(ms) == outboxBatch {
		return len(ms)
	}
	return 0
}

func (o *Outbox) deliverOne(ctx context.Context, m store.QueuedMail) {
	sctx, cancel := context.WithTimeout(ctx, o.cfg.SendTimeout)
	err := o.relay.Send(sctx, m.To, m.Subject, m.Text)
	cancel()
	// The outcome is stored even as ctx ends: a sent mail left queued would
	// be sent again by the next sender.
	wctx := context.WithoutCancel(ctx)
	now := o.clk.Now().UTC()
	switch {
	case err == nil:
		if derr := o.st.DeleteMail(wctx, o.owner, m.ID); derr != nil {
			o.log.Error("mail outbox: delete sent mail", "mail_id", m.ID, "err", derr)
			return
		}
		o.log.Debug("mail outbox: sent", "mail_id", m.ID, "attempts", m.Attempts+1)
		return
	case now.Sub(m.CreatedAt) >= o.cfg.MaxAge:
		o.log.Error("mail outbox: giving up on a mail", "mail_id", m.ID, "attempts", m.Attempts+1, "err", err)
		if derr := o.st.DeleteMail(wctx, o.owner, m.ID); derr != nil {
			o.log.Error("mail outbox: delete expired mail", "mail_id", m.ID, "err", derr)
		}
		return
	}
	wait := backoff(m.Attempts, o.cfg.MinBackoff, o.cfg.MaxBackoff)
	o.log.Warn("mail outbox: send failed, will retry", "mail_id", m.ID, "attempts", m.Attempts+1, "retry_in", wait.String(), "err", err)
	if rerr := o.st.RetryMail(wctx, o.owner, m.ID, now.Add(wait), err.Error()); rerr != nil {
		o.log.Error("mail outbox: record failed attempt", "mail_id", m.ID, "err", rerr)
	}
}

// backoff is min·2^attempts, capped at max.
func backoff(attempts int, min, max time.Duration) time.Duration {
	d := min
	for range attempts {
		if d >= max/2 {
			return max
		}
		d *= 2
	}
	return d
}
