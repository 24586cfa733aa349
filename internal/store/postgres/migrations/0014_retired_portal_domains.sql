-- A default domain is what customers' CNAMEs point at, and a CNAME
-- outlives the portal: were a deleted portal's default domain given to a
-- portal of another org, every custom name still pointing there would
-- verify for that org. So a default domain a portal gives up (deleted,
-- or given another) stays its org's here, and only that org's portals
-- may have it again.
CREATE TABLE retired_portal_domains (
    domain text PRIMARY KEY,
    org_id text NOT NULL
);
