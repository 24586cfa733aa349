package cluster

import (
	"hash/fnv"

	"github.com/sigtrail/sigtrail/internal/store"
)

// Preferred returns the replica that should deliver stream: the one with
// the highest rendezvous weight. Every replica computes the same answer
// from the same list, without talking to the others, and when a replica
// joins or leaves only the streams it gains or loses change hands (about
// 1/n of them), unlike hashing modulo n. Empty when replicas is empty.
func Preferred(stream store.StreamID, replicas []string) string {
	var best string
	var bestW uint64
	for _, r := range replicas {
		w := weight(r, stream)
		if best == "" || w > bestW || (w == bestW && r < best) {
			best, bestW = r, w
		}
	}
	return best
}

// weight hashes the pair with FNV-1a, whose output must be the same in
// every process (maphash seeds differ), then mixes it with the splitmix64
// finalizer: FNV alone spreads ids that differ in their last bytes poorly.
func weight(replica string, stream store.StreamID) uint64 {
	h := fnv.New64a()
	h.Write([]byte(replica))
	h.Write([]byte{0})
	h.Write([]byte(stream))
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
