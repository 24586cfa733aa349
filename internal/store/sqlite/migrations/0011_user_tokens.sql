-- One-time tokens emailed to org users (store.UserTokens), such as the
-- link that sets a new user's password. Only the SHA-256 of a token is
-- kept. Times are UTC nanoseconds.
CREATE TABLE user_tokens (
    hash       BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id     TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX user_tokens_user ON user_tokens (user_id, purpose);
CREATE INDEX user_tokens_expiry ON user_tokens (expires_at);
