-- The session a Dev Portal token belongs to (store.DeveloperToken.SessionID,
-- random): the access and refresh tokens of one log-in share it, and so do
-- the pairs refreshes trade them for, so a log-in or log-out that finds
-- the access token (or the session cookie) the browser presents ends the
-- refresh token too, which the browser never sends there (its cookie's
-- path is the refresh endpoint). '' for other tokens and for sessions opened before this
-- migration: those end as before, on their own expiry or at log-out.
ALTER TABLE developer_tokens ADD COLUMN session_id TEXT NOT NULL DEFAULT '';
CREATE INDEX developer_tokens_session ON developer_tokens (session_id) WHERE session_id <> '';
