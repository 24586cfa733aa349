-- The org user who owns an API token (store.Token.OwnerUserID): the
-- console user who created it. NULL is an org-level token, owned by no
-- user: created by the operator (sigtrail token create, the bootstrap
-- token), and every token created before this migration. Disabling a user
-- deletes the tokens it owns in the same transaction
-- (store.Users.DisableUser); deleting the user deletes them too (cascade).
ALTER TABLE tokens ADD COLUMN owner_user_id TEXT REFERENCES users (id) ON DELETE CASCADE;
CREATE INDEX tokens_owner ON tokens (owner_user_id) WHERE owner_user_id IS NOT NULL;
