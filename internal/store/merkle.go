package store

import "context"

// MerkleLeaves keeps the leaf hash (audit.LeafHash) of every entry ever
// appended, written by Append in the same commit as the entry. Retention
// (DeleteBefore) leaves them, so a stream's tree and its consistency can be
// proven for the stream's whole life; deleting a portal deletes its
// stream's leaves with its entries.
type MerkleLeaves interface {
	// LeafHashes returns the leaf hashes of the entries of stream with
	// from <= seq <= to, ascending; fewer when some were never appended
	// (or were appended before leaf hashes were kept).
	LeafHashes(ctx context.Context, stream StreamID, from, to int64) ([][32]byte, error)
}
