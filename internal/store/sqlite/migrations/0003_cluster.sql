-- Coordination between the processes that share a database. On SQLite one
-- process holds the data directory, so these mostly matter to tests that
-- race two handles on one file; the same code runs on PostgreSQL replicas.
CREATE TABLE replicas (
    id      TEXT PRIMARY KEY,
    expires INTEGER NOT NULL
);

-- A lease row outlives its holder (owner '' when free), so its epoch never
-- goes back and a fence once lost stays lost.
CREATE TABLE leases (
    name    TEXT PRIMARY KEY,
    owner   TEXT NOT NULL,
    epoch   INTEGER NOT NULL,
    expires INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE periodic (
    name     TEXT PRIMARY KEY,
    last_run INTEGER NOT NULL
) WITHOUT ROWID;

-- Token buckets as GCRA theoretical arrival times (UTC nanoseconds).
CREATE TABLE rate_buckets (
    key TEXT PRIMARY KEY,
    tat INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX rate_buckets_tat ON rate_buckets (tat);
