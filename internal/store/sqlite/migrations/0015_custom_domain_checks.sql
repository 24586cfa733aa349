-- Custom domains are served only once DNS shows them to be a CNAME of
-- their portal's default domain (package customdomain). Several portals
-- may claim one name (portals.custom_domain is no longer unique); at most
-- one has it verified, and only a verified name is served.
-- custom_domain_failures counts checks in a row that did not find the
-- CNAME, custom_domain_next_check (ns) is when the claim is due again,
-- and custom_domain_token fences a check's result against a later take.
-- Custom domains set before this migration are pending and due at once:
-- the first check after the upgrade serves those whose CNAME is in place
-- (with --custom-domain-check none, all of them).
ALTER TABLE portals ADD COLUMN custom_domain_verified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE portals ADD COLUMN custom_domain_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE portals ADD COLUMN custom_domain_next_check INTEGER NOT NULL DEFAULT 0;
ALTER TABLE portals ADD COLUMN custom_domain_token INTEGER NOT NULL DEFAULT 0;
DROP INDEX portals_custom_domain;
CREATE INDEX portals_custom_domain ON portals (custom_domain) WHERE custom_domain IS NOT NULL;
CREATE UNIQUE INDEX portals_verified_custom_domain ON portals (custom_domain) WHERE custom_domain_verified <> 0;
CREATE INDEX portals_custom_domain_due ON portals (custom_domain_next_check) WHERE custom_domain IS NOT NULL;
