-- Kong's portal labels and portal content (store.PortalContent). Times are
-- UTC nanoseconds. A top-level page has parent_id '' (not NULL), so one
-- unique index keeps slugs unique among siblings; a page's descendants
-- are deleted with it by the store, its portal's rows by cascade.
ALTER TABLE portals ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';

CREATE TABLE portal_pages (
    id          TEXT PRIMARY KEY,
    portal_id   TEXT NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
    parent_id   TEXT NOT NULL DEFAULT '',
    position    INTEGER NOT NULL,
    slug        TEXT NOT NULL,
    title       TEXT NOT NULL,
    description TEXT NOT NULL,
    content     TEXT NOT NULL,
    visibility  TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX portal_pages_slug ON portal_pages (portal_id, parent_id, slug);

CREATE TABLE portal_snippets (
    id          TEXT PRIMARY KEY,
    portal_id   TEXT NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    title       TEXT NOT NULL,
    description TEXT NOT NULL,
    content     TEXT NOT NULL,
    visibility  TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX portal_snippets_name ON portal_snippets (portal_id, name);

CREATE TABLE portal_customizations (
    portal_id TEXT PRIMARY KEY REFERENCES portals (id) ON DELETE CASCADE,
    document  TEXT NOT NULL
);
