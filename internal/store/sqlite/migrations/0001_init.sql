-- The event log. Each stream gets a small integer id, so the indexes stay
-- narrow. Entries live in a rowid table: the rowid grows with every append,
-- so a commit writes the table's rightmost pages only, whatever the number
-- of streams (clustering by (stream, seq) instead rebalanced one leaf per
-- stream per commit: about one page written per entry).
CREATE TABLE streams (
    sid      INTEGER PRIMARY KEY,
    stream   TEXT NOT NULL UNIQUE,
    last_seq INTEGER NOT NULL
);

CREATE TABLE entries (
    sid    INTEGER NOT NULL,
    seq    INTEGER NOT NULL,
    ts_ms  INTEGER NOT NULL,
    kind   INTEGER NOT NULL,
    record BLOB    NOT NULL,
    PRIMARY KEY (sid, seq)
);

-- Which sequence numbers of a stream hold entries of each hour (by entry
-- time): time-window queries and retention turn a time range into a seq
-- range of the primary key. Keyed by hour first, so every commit updates
-- rows in the same last page; an index on (sid, ts_ms) instead dirtied one
-- leaf per stream per commit (a third of all pages a commit wrote).
CREATE TABLE stream_hours (
    hour    INTEGER NOT NULL,
    sid     INTEGER NOT NULL,
    min_seq INTEGER NOT NULL,
    max_seq INTEGER NOT NULL,
    PRIMARY KEY (hour, sid)
) WITHOUT ROWID;

-- Times below are UTC nanoseconds since the Unix epoch; 0 means unset.
CREATE TABLE orgs (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    hash       BLOB NOT NULL UNIQUE,
    system     INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX tokens_org ON tokens (org_id, id);

CREATE TABLE portals (
    id                      TEXT PRIMARY KEY,
    org_id                  TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name                    TEXT NOT NULL,
    display_name            TEXT NOT NULL,
    description             TEXT NOT NULL,
    authentication_enabled  INTEGER NOT NULL,
    auto_approve_developers INTEGER NOT NULL,
    rbac_enabled            INTEGER NOT NULL,
    default_api_visibility  TEXT NOT NULL,
    default_page_visibility TEXT NOT NULL,
    default_domain          TEXT NOT NULL UNIQUE,
    custom_domain           TEXT,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    UNIQUE (org_id, name)
);
CREATE UNIQUE INDEX portals_custom_domain ON portals (custom_domain) WHERE custom_domain IS NOT NULL;
CREATE INDEX portals_org ON portals (org_id, id);

CREATE TABLE destinations (
    id                    TEXT PRIMARY KEY,
    org_id                TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name                  TEXT NOT NULL,
    endpoint              TEXT NOT NULL,
    authorization         TEXT NOT NULL,
    log_format            TEXT NOT NULL,
    skip_ssl_verification INTEGER NOT NULL,
    legacy                INTEGER NOT NULL,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX destinations_org ON destinations (org_id, id);

CREATE TABLE webhooks (
    stream         TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    portal_id      TEXT REFERENCES portals (id) ON DELETE CASCADE,
    destination_id TEXT REFERENCES destinations (id),
    enabled        INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX webhooks_destination ON webhooks (destination_id);

CREATE TABLE webhook_state (
    stream                TEXT PRIMARY KEY REFERENCES webhooks (stream) ON DELETE CASCADE,
    cursor                INTEGER NOT NULL,
    status                TEXT NOT NULL,
    last_attempt_at       INTEGER NOT NULL,
    last_response_code    INTEGER NOT NULL,
    last_response_message TEXT NOT NULL
);

CREATE TABLE failed_ranges (
    stream   TEXT NOT NULL REFERENCES webhook_state (stream) ON DELETE CASCADE,
    from_seq INTEGER NOT NULL,
    to_seq   INTEGER NOT NULL,
    PRIMARY KEY (stream, from_seq)
) WITHOUT ROWID;

CREATE TABLE replay_jobs (
    stream     TEXT PRIMARY KEY,
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
    updated_at INTEGER NOT NULL
);

CREATE TABLE developers (
    id             TEXT PRIMARY KEY,
    portal_id      TEXT NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
    org_id         TEXT NOT NULL,
    email          TEXT NOT NULL,
    email_key      TEXT NOT NULL,
    full_name      TEXT NOT NULL,
    status         TEXT NOT NULL,
    email_verified INTEGER NOT NULL,
    password_hash  TEXT NOT NULL,
    failed_logins  INTEGER NOT NULL,
    failed_since   INTEGER NOT NULL,
    locked_until   INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (portal_id, email_key)
);
CREATE INDEX developers_portal ON developers (portal_id, id);

CREATE TABLE developer_tokens (
    hash         BLOB PRIMARY KEY,
    developer_id TEXT NOT NULL REFERENCES developers (id) ON DELETE CASCADE,
    portal_id    TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX developer_tokens_developer ON developer_tokens (developer_id, purpose);
CREATE INDEX developer_tokens_expiry ON developer_tokens (expires_at);

CREATE TABLE signing_keys (
    id          TEXT PRIMARY KEY,
    private_key BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    retired_at  INTEGER NOT NULL
);
