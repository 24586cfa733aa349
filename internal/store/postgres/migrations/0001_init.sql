-- sigtrail on PostgreSQL. Times are UTC nanoseconds since the Unix epoch
-- in bigint, as in the SQLite schema (0 means unset): exact round trips,
-- and the same arithmetic in both backends. Identifiers and names use the
-- "C" collation, so ordering and paging compare bytes whatever the
-- database's locale.

-- The event log. Each stream's row holds its last sequence number; an
-- append takes it under the row lock (INSERT ... ON CONFLICT DO UPDATE) in
-- the appending transaction, so one stream's commits are serialized in
-- sequence order and a reader never steps past an entry that commits late.
CREATE TABLE streams (
    sid      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream   text COLLATE "C" NOT NULL UNIQUE,
    last_seq bigint NOT NULL
);

CREATE TABLE entries (
    sid    bigint NOT NULL,
    seq    bigint NOT NULL,
    ts_ms  bigint NOT NULL,
    kind   smallint NOT NULL,
    record bytea NOT NULL, -- audit.AppendRecord, as on SQLite
    PRIMARY KEY (sid, seq)
);
-- Time windows (queries, replay) and retention, which walks the streams
-- and takes each one's oldest entries from this index.
CREATE INDEX entries_time ON entries (sid, ts_ms);

CREATE TABLE orgs (
    id         text COLLATE "C" PRIMARY KEY,
    name       text COLLATE "C" NOT NULL UNIQUE,
    created_at bigint NOT NULL
);

CREATE TABLE tokens (
    id         text COLLATE "C" PRIMARY KEY,
    org_id     text COLLATE "C" NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name       text NOT NULL,
    role       text NOT NULL,
    hash       bytea NOT NULL UNIQUE,
    system     boolean NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL
);
CREATE INDEX tokens_org ON tokens (org_id, id);

CREATE TABLE portals (
    id                      text COLLATE "C" PRIMARY KEY,
    org_id                  text COLLATE "C" NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name                    text COLLATE "C" NOT NULL,
    display_name            text NOT NULL,
    description             text NOT NULL,
    authentication_enabled  boolean NOT NULL,
    auto_approve_developers boolean NOT NULL,
    rbac_enabled            boolean NOT NULL,
    default_api_visibility  text NOT NULL,
    default_page_visibility text NOT NULL,
    default_domain          text COLLATE "C" NOT NULL UNIQUE,
    custom_domain           text COLLATE "C",
    created_at              bigint NOT NULL,
    updated_at              bigint NOT NULL,
    UNIQUE (org_id, name)
);
CREATE UNIQUE INDEX portals_custom_domain ON portals (custom_domain) WHERE custom_domain IS NOT NULL;
CREATE INDEX portals_org ON portals (org_id, id);

CREATE TABLE destinations (
    id                    text COLLATE "C" PRIMARY KEY,
    org_id                text COLLATE "C" NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name                  text COLLATE "C" NOT NULL,
    endpoint              text NOT NULL,
    authorization_header  text NOT NULL,
    log_format            text NOT NULL,
    skip_ssl_verification boolean NOT NULL,
    legacy                boolean NOT NULL,
    created_at            bigint NOT NULL,
    updated_at            bigint NOT NULL
);
CREATE INDEX destinations_org ON destinations (org_id, id);

CREATE TABLE webhooks (
    stream         text COLLATE "C" PRIMARY KEY,
    org_id         text COLLATE "C" NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    portal_id      text COLLATE "C" REFERENCES portals (id) ON DELETE CASCADE,
    destination_id text COLLATE "C" REFERENCES destinations (id),
    enabled        boolean NOT NULL,
    updated_at     bigint NOT NULL
);
CREATE INDEX webhooks_destination ON webhooks (destination_id);
CREATE INDEX webhooks_portal ON webhooks (portal_id);

CREATE TABLE webhook_state (
    stream                text COLLATE "C" PRIMARY KEY REFERENCES webhooks (stream) ON DELETE CASCADE,
    cursor                bigint NOT NULL,
    status                text NOT NULL,
    last_attempt_at       bigint NOT NULL,
    last_response_code    integer NOT NULL,
    last_response_message text NOT NULL
);

CREATE TABLE failed_ranges (
    stream   text COLLATE "C" NOT NULL REFERENCES webhook_state (stream) ON DELETE CASCADE,
    from_seq bigint NOT NULL,
    to_seq   bigint NOT NULL,
    PRIMARY KEY (stream, from_seq)
);

CREATE TABLE replay_jobs (
    stream     text COLLATE "C" PRIMARY KEY,
    org_id     text COLLATE "C" NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    portal_id  text COLLATE "C" REFERENCES portals (id) ON DELETE CASCADE,
    start_at   bigint NOT NULL,
    end_at     bigint NOT NULL,
    status     text NOT NULL,
    total      bigint NOT NULL,
    sent       bigint NOT NULL,
    cursor     bigint NOT NULL,
    high_seq   bigint NOT NULL,
    error      text NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
);
CREATE INDEX replay_jobs_portal ON replay_jobs (portal_id);
CREATE INDEX replay_jobs_active ON replay_jobs (stream) WHERE status IN ('accepted', 'pending', 'running');

CREATE TABLE developers (
    id             text COLLATE "C" PRIMARY KEY,
    portal_id      text COLLATE "C" NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
    org_id         text COLLATE "C" NOT NULL,
    email          text NOT NULL,
    email_key      text COLLATE "C" NOT NULL, -- lower(email), as Go's strings.ToLower
    full_name      text NOT NULL,
    status         text NOT NULL,
    email_verified boolean NOT NULL,
    password_hash  text NOT NULL,
    failed_logins  integer NOT NULL,
    failed_since   bigint NOT NULL,
    locked_until   bigint NOT NULL,
    created_at     bigint NOT NULL,
    updated_at     bigint NOT NULL,
    UNIQUE (portal_id, email_key)
);
CREATE INDEX developers_portal ON developers (portal_id, id);

CREATE TABLE developer_tokens (
    hash         bytea PRIMARY KEY,
    developer_id text COLLATE "C" NOT NULL REFERENCES developers (id) ON DELETE CASCADE,
    portal_id    text COLLATE "C" NOT NULL,
    purpose      text NOT NULL,
    created_at   bigint NOT NULL,
    expires_at   bigint NOT NULL
);
CREATE INDEX developer_tokens_developer ON developer_tokens (developer_id, purpose);
CREATE INDEX developer_tokens_expiry ON developer_tokens (expires_at) WHERE expires_at <> 0;

CREATE TABLE signing_keys (
    id          text COLLATE "C" PRIMARY KEY,
    private_key bytea NOT NULL,
    created_at  bigint NOT NULL,
    retired_at  bigint NOT NULL
);

-- Coordination between replicas.
CREATE TABLE replicas (
    id      text COLLATE "C" PRIMARY KEY,
    expires bigint NOT NULL
);

-- A lease row outlives its holder (owner '' when free), so its epoch never
-- goes back and a fence once lost stays lost.
CREATE TABLE leases (
    name    text COLLATE "C" PRIMARY KEY,
    owner   text COLLATE "C" NOT NULL,
    epoch   bigint NOT NULL,
    expires bigint NOT NULL
);
CREATE INDEX leases_owner ON leases (owner) WHERE owner <> '';

CREATE TABLE periodic (
    name     text COLLATE "C" PRIMARY KEY,
    last_run bigint NOT NULL
);

-- Token buckets as GCRA theoretical arrival times.
CREATE TABLE rate_buckets (
    key text COLLATE "C" PRIMARY KEY,
    tat bigint NOT NULL
);
CREATE INDEX rate_buckets_tat ON rate_buckets (tat);
