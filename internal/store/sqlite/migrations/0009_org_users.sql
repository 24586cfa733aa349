-- Org users who log in to the console (store.Users), and their sessions.
-- Emails are unique across orgs: the log-in form names no org. Times are
-- UTC nanoseconds, 0 for none.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    email         TEXT NOT NULL,
    email_key     TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    disabled      INTEGER NOT NULL,
    password_hash TEXT NOT NULL,
    failed_logins INTEGER NOT NULL,
    failed_since  INTEGER NOT NULL,
    locked_until  INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX users_org ON users (org_id, id);

CREATE TABLE user_sessions (
    hash       BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);
CREATE INDEX user_sessions_expiry ON user_sessions (expires_at);

-- Delivery attempts of the last day (store.Overview), for the console's
-- deliveries-per-minute chart and recent attempts.
CREATE TABLE webhook_attempts (
    stream        TEXT NOT NULL REFERENCES webhook_state (stream) ON DELETE CASCADE,
    at            INTEGER NOT NULL,
    response_code INTEGER NOT NULL,
    ok            INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_stream ON webhook_attempts (stream, at);

-- Replay jobs a newer one replaced (store.Overview.ListPastReplayJobs),
-- the last 50 of each stream, for the console's Replay page.
CREATE TABLE replay_job_history (
    id         INTEGER PRIMARY KEY,
    stream     TEXT NOT NULL,
    org_id     TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    portal_id  TEXT REFERENCES portals (id) ON DELETE CASCADE,
    start_at   INTEGER NOT NULL,
    end_at     INTEGER NOT NULL,
    status     TEXT NOT NULL,
    total      INTEGER NOT NULL,
    sent       INTEGER NOT NULL,
    cursor     INTEGER NOT NULL,
    error      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    high_seq   INTEGER NOT NULL
);
CREATE INDEX replay_job_history_stream ON replay_job_history (stream, id);
