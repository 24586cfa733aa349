-- Dev Portal single sign-on and teams (store.PortalAuth, store.Teams).
-- Times are UTC nanoseconds. Everything goes with its portal.
CREATE TABLE portal_auth_settings (
    portal_id               TEXT PRIMARY KEY REFERENCES portals (id) ON DELETE CASCADE,
    basic_auth_enabled      INTEGER NOT NULL,
    idp_mapping_enabled     INTEGER NOT NULL,
    konnect_mapping_enabled INTEGER NOT NULL,
    sso_sign_up_enabled     INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL
);

CREATE TABLE identity_providers (
    id            TEXT PRIMARY KEY,
    portal_id     TEXT NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
    org_id        TEXT NOT NULL,
    type          TEXT NOT NULL,
    enabled       INTEGER NOT NULL,
    issuer_url    TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    client_secret TEXT NOT NULL, -- sealed by the sealing layer when it has keys
    scopes        TEXT NOT NULL, -- space-separated, as OAuth 2.0 writes them
    claim_name    TEXT NOT NULL,
    claim_email   TEXT NOT NULL,
    claim_groups  TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (portal_id, type)
);

CREATE TABLE teams (
    id                   TEXT PRIMARY KEY,
    portal_id            TEXT NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
    org_id               TEXT NOT NULL,
    name                 TEXT NOT NULL,
    description          TEXT NOT NULL,
    can_own_applications INTEGER NOT NULL,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    UNIQUE (portal_id, name)
);
CREATE INDEX teams_portal ON teams (portal_id, id);

CREATE TABLE team_developers (
    team_id      TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    developer_id TEXT NOT NULL REFERENCES developers (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (team_id, developer_id)
);
CREATE INDEX team_developers_developer ON team_developers (developer_id);

CREATE TABLE team_group_mappings (
    id         TEXT PRIMARY KEY,
    portal_id  TEXT NOT NULL,
    idp_id     TEXT NOT NULL REFERENCES identity_providers (id) ON DELETE CASCADE,
    team_id    TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    group_name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (idp_id, team_id, group_name)
);
CREATE INDEX team_group_mappings_team ON team_group_mappings (team_id);
