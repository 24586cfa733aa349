-- Dev Portal email waiting to be sent (store.MailOutbox). Times are UTC
-- nanoseconds; claimed_by is '' when no sender holds the mail.
CREATE TABLE mail_outbox (
    id            text PRIMARY KEY,
    recipient     text NOT NULL,
    subject       text NOT NULL,
    body          text NOT NULL,
    created_at    bigint NOT NULL,
    attempts      integer NOT NULL DEFAULT 0,
    next_attempt  bigint NOT NULL,
    last_error    text NOT NULL DEFAULT '',
    claimed_by    text NOT NULL DEFAULT '',
    claim_expires bigint NOT NULL DEFAULT 0
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt);
