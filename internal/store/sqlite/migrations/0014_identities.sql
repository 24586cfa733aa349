-- One log-in identity per person, memberships per org (store.Identity,
-- store.User). An email is unique per org, no longer across orgs: the
-- person behind an address has one password, one failure count and one
-- lock (identities), and a users row per org they belong to, with its own
-- role and disabled state. Existing users keep their ids (tokens,
-- sessions and user tokens refer to them): each becomes one identity, with
-- the same id, and that identity's one membership. users.email stays: the
-- address as that org wrote it, so an org never sees another's spelling.
-- identities.password_org_id names the org whose admin chose the current
-- password ('' once the person set it through an emailed link, or the
-- operator did): while set, the identity enters that org only, so an org
-- that made up a person's password never enters another org as them.
-- Existing identities get their one org: nobody knows who chose those.
CREATE TABLE identities (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    email_key     TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    failed_logins INTEGER NOT NULL,
    failed_since  INTEGER NOT NULL,
    locked_until  INTEGER NOT NULL,
    password_org_id TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
INSERT INTO identities (id, email, email_key, password_hash, failed_logins, failed_since, locked_until, password_org_id, created_at, updated_at)
    SELECT id, email, email_key, password_hash, failed_logins, failed_since, locked_until, org_id, created_at, updated_at FROM users;

-- SQLite adds a referencing column only as nullable; every write sets it.
ALTER TABLE users ADD COLUMN identity_id TEXT REFERENCES identities (id) ON DELETE CASCADE;
UPDATE users SET identity_id = id;
CREATE UNIQUE INDEX users_org_identity ON users (org_id, identity_id);
CREATE INDEX users_identity ON users (identity_id);

-- users.email_key keeps its UNIQUE constraint, which SQLite drops only by
-- rebuilding the table, and dropping the old table would cascade to the
-- sessions, user tokens and API tokens that refer to it. So the column
-- now holds the user's own id (unique, meaning nothing): the rule is
-- users_org_identity above.
UPDATE users SET email_key = id;
ALTER TABLE users DROP COLUMN password_hash;
ALTER TABLE users DROP COLUMN failed_logins;
ALTER TABLE users DROP COLUMN failed_since;
ALTER TABLE users DROP COLUMN locked_until;
