-- Kong's portal labels and portal content (store.PortalContent). Times are
-- UTC nanoseconds. A top-level page has parent_id '' (not NULL), so one
-- unique index keeps slugs unique among siblings; a page's descendants
-- are deleted with it by the store, its portal's rows by cascade.
ALTER TABLE portals ADD COLUMN labels text NOT NULL DEFAULT '{}';

CREATE TABLE portal_pages (
    id          text PRIMARY KEY,
    portal_id   text NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
    parent_id   text NOT NULL DEFAULT '',
    position    integer NOT NULL,
    slug        text NOT NULL,
    title       text NOT NULL,
    description text NOT NULL,
    content     text NOT NULL,
    visibility  text NOT NULL,
    status      text NOT NULL,
    created_at  bigint NOT NULL,
    updated_at  bigint NOT NULL
);
CREATE UNIQUE INDEX portal_pages_slug ON portal_pages (portal_id, parent_id, slug);

CREATE TABLE portal_snippets (
    id          text PRIMARY KEY,
    portal_id   text NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
    name        text NOT NULL,
    title       text NOT NULL,
    description text NOT NULL,
    content     text NOT NULL,
    visibility  text NOT NULL,
    status      text NOT NULL,
    created_at  bigint NOT NULL,
    updated_at  bigint NOT NULL
);
CREATE UNIQUE INDEX portal_snippets_name ON portal_snippets (portal_id, name);

CREATE TABLE portal_customizations (
    portal_id text PRIMARY KEY REFERENCES portals (id) ON DELETE CASCADE,
    document  text NOT NULL
);
