-- Merkle leaf hashes of every entry (package tlog), kept past retention:
-- a stream's tree and its consistency are provable for its whole life.
-- Clustered by (sid, seq): a commit writes each stream's rightmost page.
CREATE TABLE leaves (
    sid  INTEGER NOT NULL,
    seq  INTEGER NOT NULL,
    hash BLOB    NOT NULL,
    PRIMARY KEY (sid, seq)
) WITHOUT ROWID;

ALTER TABLE destinations ADD COLUMN sequence_numbers INTEGER NOT NULL DEFAULT 0;
