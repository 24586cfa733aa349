-- A portal's logo and favicon (Kong's portal assets): the decoded image,
-- its content type and its SHA-256, which the portal sends as the ETag.
CREATE TABLE portal_assets (
    portal_id    TEXT NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    data         BLOB NOT NULL,
    digest       TEXT NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (portal_id, kind)
);
