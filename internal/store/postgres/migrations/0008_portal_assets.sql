-- A portal's logo and favicon (Kong's portal assets): the decoded image,
-- its content type and its SHA-256, which the portal sends as the ETag.
CREATE TABLE portal_assets (
    portal_id    text NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
    kind         text NOT NULL,
    content_type text NOT NULL,
    data         bytea NOT NULL,
    digest       text NOT NULL,
    updated_at   bigint NOT NULL,
    PRIMARY KEY (portal_id, kind)
);
