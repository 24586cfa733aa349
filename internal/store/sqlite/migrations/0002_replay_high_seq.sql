-- A replay job sends the entries of its window up to the stream's last
-- sequence number when it started running, so entries appended meanwhile
-- (or taking the place of ones retention deleted) are never mixed in.
ALTER TABLE replay_jobs ADD COLUMN high_seq INTEGER NOT NULL DEFAULT 0;
