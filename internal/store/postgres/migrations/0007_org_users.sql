-- Org users who log in to the console (store.Users), and their sessions.
-- Emails are unique across orgs: the log-in form names no org. Times are
-- UTC nanoseconds, 0 for none.
CREATE TABLE users (
    id            text PRIMARY KEY,
    org_id        text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    email         text NOT NULL,
    email_key     text NOT NULL UNIQUE,
    role          text NOT NULL,
    disabled      boolean NOT NULL,
    password_hash text NOT NULL,
    failed_logins integer NOT NULL,
    failed_since  bigint NOT NULL,
    locked_until  bigint NOT NULL,
    created_at    bigint NOT NULL,
    updated_at    bigint NOT NULL
);
CREATE INDEX users_org ON users (org_id, id);

CREATE TABLE user_sessions (
    hash       bytea PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id     text NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);
CREATE INDEX user_sessions_expiry ON user_sessions (expires_at);

-- Delivery attempts of the last day (store.Overview), for the console's
-- deliveries-per-minute chart and recent attempts.
CREATE TABLE webhook_attempts (
    stream        text NOT NULL REFERENCES webhook_state (stream) ON DELETE CASCADE,
    at            bigint NOT NULL,
    response_code integer NOT NULL,
    ok            boolean NOT NULL
);
CREATE INDEX webhook_attempts_stream ON webhook_attempts (stream, at);

-- Replay jobs a newer one replaced (store.Overview.ListPastReplayJobs),
-- the last 50 of each stream, for the console's Replay page.
CREATE TABLE replay_job_history (
    id         bigserial PRIMARY KEY,
    stream     text NOT NULL,
    org_id     text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    portal_id  text REFERENCES portals (id) ON DELETE CASCADE,
    start_at   bigint NOT NULL,
    end_at     bigint NOT NULL,
    status     text NOT NULL,
    total      bigint NOT NULL,
    sent       bigint NOT NULL,
    cursor     bigint NOT NULL,
    error      text NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    high_seq   bigint NOT NULL
);
CREATE INDEX replay_job_history_stream ON replay_job_history (stream, id);
