-- Dev Portal email waiting to be sent (store.MailOutbox). Times are UTC
-- nanoseconds; claimed_by is '' when no sender holds the mail.
CREATE TABLE mail_outbox (
    id            TEXT PRIMARY KEY,
    recipient     TEXT NOT NULL,
    subject       TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_attempt  INTEGER NOT NULL,
    last_error    TEXT NOT NULL DEFAULT '',
    claimed_by    TEXT NOT NULL DEFAULT '',
    claim_expires INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt);
