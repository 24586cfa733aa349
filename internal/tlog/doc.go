// Package tlog makes each event log stream a transparency log: a Merkle
// tree over the stream's entries in sequence order with RFC 9162 hashing
// (leaf i is the entry with seq i+1, its leaf hash audit.LeafHash), signed
// checkpoints in the C2SP tlog-checkpoint format as C2SP signed notes
// (golang.org/x/mod/sumdb/note, Ed25519, as the Go checksum database
// signs), and inclusion and consistency proofs (transparency-dev/merkle).
//
// The store keeps only leaf hashes; interior nodes are computed on demand.
// Tree caches the roots of full 256-leaf tiles per stream (they never
// change), so a checkpoint or proof reads at most one partial tile of
// leaves plus the tiles not seen before.
package tlog
