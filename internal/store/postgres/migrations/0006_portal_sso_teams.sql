-- Dev Portal single sign-on and teams (store.PortalAuth, store.Teams).
-- Times are UTC nanoseconds. Everything goes with its portal.
CREATE TABLE portal_auth_settings (
    portal_id               text COLLATE "C" PRIMARY KEY REFERENCES portals (id) ON DELETE CASCADE,
    basic_auth_enabled      boolean NOT NULL,
    idp_mapping_enabled     boolean NOT NULL,
    konnect_mapping_enabled boolean NOT NULL,
    sso_sign_up_enabled     boolean NOT NULL,
    updated_at              bigint NOT NULL
);

CREATE TABLE identity_providers (
    id            text COLLATE "C" PRIMARY KEY,
    portal_id     text COLLATE "C" NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
    org_id        text NOT NULL,
    type          text NOT NULL,
    enabled       boolean NOT NULL,
    issuer_url    text NOT NULL,
    client_id     text NOT NULL,
    client_secret text NOT NULL, -- sealed by the sealing layer when it has keys
    scopes        text NOT NULL, -- space-separated, as OAuth 2.0 writes them
    claim_name    text NOT NULL,
    claim_email   text NOT NULL,
    claim_groups  text NOT NULL,
    created_at    bigint NOT NULL,
    updated_at    bigint NOT NULL,
    UNIQUE (portal_id, type)
);

CREATE TABLE teams (
    id                   text COLLATE "C" PRIMARY KEY,
    portal_id            text COLLATE "C" NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
    org_id               text NOT NULL,
    name                 text NOT NULL,
    description          text NOT NULL,
    can_own_applications boolean NOT NULL,
    created_at           bigint NOT NULL,
    updated_at           bigint NOT NULL,
    UNIQUE (portal_id, name)
);
CREATE INDEX teams_portal ON teams (portal_id, id);

CREATE TABLE team_developers (
    team_id      text COLLATE "C" NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    developer_id text COLLATE "C" NOT NULL REFERENCES developers (id) ON DELETE CASCADE,
    created_at   bigint NOT NULL,
    PRIMARY KEY (team_id, developer_id)
);
CREATE INDEX team_developers_developer ON team_developers (developer_id);

CREATE TABLE team_group_mappings (
    id         text COLLATE "C" PRIMARY KEY,
    portal_id  text NOT NULL,
    idp_id     text COLLATE "C" NOT NULL REFERENCES identity_providers (id) ON DELETE CASCADE,
    team_id    text COLLATE "C" NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    group_name text NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    UNIQUE (idp_id, team_id, group_name)
);
CREATE INDEX team_group_mappings_team ON team_group_mappings (team_id);
