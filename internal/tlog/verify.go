package tlog

import (
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

func toSlices(h [][32]byte) [][]byte {
	out := make([][]byte, len(h))
	for i := range h {
		out[i] = h[i][:]
	}
	return out
}

// VerifyInclusion checks that leaf is entry seq (index seq-1) of the tree
// with root at size.
func VerifyInclusion(seq, size int64, leaf [32]byte, hashes [][32]byte, root [32]byte) error {
	return proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(seq-1), uint64(size), leaf[:], toSlices(hashes), root[:])
}

// VerifyConsistency checks that the tree of root2 at size2 extends the
// tree of root1 at size1.
func VerifyConsistency(size1, size2 int64, hashes [][32]byte, root1, root2 [32]byte) error {
	return proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(size1), uint64(size2), toSlices(hashes), root1[:], root2[:])
}

// RootsAt computes, in one pass over leaves held from the start, the
// root hash at each of sizes (ascending, each at most len(leaves)): what a
// verifier that holds every line recomputes. It uses the transparency-dev
// compact range, independently of Tree.
func RootsAt(leaves [][32]byte, sizes []int64) [][32]byte {
	rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	r := rf.NewEmptyRange(0)
	out := make([][32]byte, len(sizes))
	next := 0
	for i := 0; ; i++ {
		for next < len(sizes) && sizes[next] == int64(i) {
			if i == 0 {
				copy(out[next][:], rfc6962.DefaultHasher.EmptyRoot())
			} else {
				h, _ := r.GetRootHash(nil) // a non-empty range from 0 has a root
				copy(out[next][:], h)
			}
			next++
		}
		if next == len(sizes) || i == len(leaves) {
			return out
		}
		_ = r.Append(leaves[i][:], nil) // appending to a range from 0 cannot fail
	}
}
