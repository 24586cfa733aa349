-- Merkle leaf hashes of every entry (package tlog), kept past retention:
-- a stream's tree and its consistency are provable for its whole life.
CREATE TABLE leaves (
    sid  bigint NOT NULL,
    seq  bigint NOT NULL,
    hash bytea  NOT NULL,
    PRIMARY KEY (sid, seq)
);

ALTER TABLE destinations ADD COLUMN sequence_numbers boolean NOT NULL DEFAULT false;
