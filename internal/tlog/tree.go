package tlog

import (
	"context"
	"crypto/sha256"
	"sync"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

// Leaves is what the tree reads from the store.
type Leaves interface {
	// LeafHashes returns the leaf hashes of the entries of stream with
	// from <= seq <= to, ascending.
	LeafHashes(ctx context.Context, stream store.StreamID, from, to int64) ([][32]byte, error)
	// LastSeq is the stream's size.
	LastSeq(ctx context.Context, stream store.StreamID) (int64, error)
}

// tileLevel is the height of a cached tile: 256 leaves.
const tileLevel = 8

const tileSize = 1 << tileLevel

// maxCachedStreams bounds the cache; a stream of a million entries costs
// 125 KB in it.
const maxCachedStreams = 4096

// readTiles is how many tiles one store read fills.
const readTiles = 64

// Tree computes roots and proofs of every stream's tree from its leaf
// hashes. It is safe for concurrent use.
type Tree struct {
	leaves Leaves
	mu     sync.Mutex
	tiles  map[store.StreamID][][32]byte // roots of the full tiles, in order
}

// NewTree returns a tree reading leaves.
func NewTree(leaves Leaves) *Tree {
	return &Tree{leaves: leaves, tiles: make(map[store.StreamID][][32]byte)}
}

// Size is the stream's current size.
func (t *Tree) Size(ctx context.Context, stream store.StreamID) (int64, error) {
	return t.leaves.LastSeq(ctx, stream)
}

// hashChildren is RFC 9162's interior node hash.
func hashChildren(l, r [32]byte) [32]byte {
	var b [65]byte
	b[0] = 1
	copy(b[1:], l[:])
	copy(b[33:], r[:])
	return sha256.Sum256(b[:])
}

// fold hashes a perfect subtree's 2^k nodes up to its root.
func fold(h [][32]byte) [32]byte {
	buf := append([][32]byte(nil), h...)
	for len(buf) > 1 {
		for i := 0; i < len(buf)/2; i++ {
			buf[i] = hashChildren(buf[2*i], buf[2*i+1])
		}
		buf = buf[:len(buf)/2]
	}
	return buf[0]
}

// view reads one stream's nodes for one request, at a size the stream has
// reached, remembering the leaves it read.
type view struct {
	t       *Tree
	ctx     context.Context
	stream  store.StreamID
	size    int64
	partial map[int64][][32]byte // leaves of tiles read in this request
}

func (t *Tree) view(ctx context.Context, stream store.StreamID, size int64) (*view, error) {
	have, err := t.leaves.LastSeq(ctx, stream)
	if err != nil {
		return nil, err
	}
	if size < 0 || size > have {
		return nil, apperr.New(apperr.NotFound, "the stream has %d entries, not %d", have, size)
	}
	return &view{t: t, ctx: ctx, stream: stream, size: size, partial: map[int64][][32]byte{}}, nil
}

// tileRoots returns the roots of the stream's first n full tiles.
func (v *view) tileRoots(n int64) ([][32]byte, error) {
	t := v.t
	t.mu.Lock()
	have := t.tiles[v.stream]
	t.mu.Unlock()
	for int64(len(have)) < n {
		first := int64(len(have))
		last := min(n, first+readTiles) // exclusive
		leaves, err := v.readLeaves(first*tileSize, last*tileSize)
		if err != nil {
			return nil, err
		}
		roots := make([][32]byte, 0, last-first)
		for i := int64(0); i < last-first; i++ {
			roots = append(roots, fold(leaves[i*tileSize:(i+1)*tileSize]))
		}
		t.mu.Lock()
		cur := t.tiles[v.stream]
		if int64(len(cur)) == first { // else another request filled them
			if len(t.tiles) >= maxCachedStreams && cur == nil {
				for k := range t.tiles { // drop one at random
					delete(t.tiles, k)
					break
				}
			}
			cur = append(cur, roots...)
			t.tiles[v.stream] = cur
		}
		have = cur
		t.mu.Unlock()
	}
	return have[:n], nil
}

// readLeaves reads the leaf hashes of indexes [begin, end) (seq begin+1
// to end), all of which must exist.
func (v *view) readLeaves(begin, end int64) ([][32]byte, error) {
	out := make([][32]byte, 0, end-begin)
	for begin+int64(len(out)) < end {
		from := begin + int64(len(out)) + 1
		got, err := v.t.leaves.LeafHashes(v.ctx, v.stream, from, end)
		if err != nil {
			return nil, err
		}
		if len(got) == 0 {
			return nil, apperr.New(apperr.Conflict,
				"leaf hash of entry %d is missing: the stream has entries from before leaf hashes were kept", from)
		}
		out = append(out, got...)
	}
	return out, nil
}

// node returns the hash of the perfect subtree id.
func (v *view) node(id compact.NodeID) ([32]byte, error) {
	if id.Level >= tileLevel {
		per := int64(1) << (id.Level - tileLevel)
		first := int64(id.Index) * per
		roots, err := v.tileRoots(first + per)
		if err != nil {
			return [32]byte{}, err
		}
		return fold(roots[first:]), nil
	}
	begin := int64(id.Index) << id.Level
	tile := begin / tileSize
	leaves, ok := v.partial[tile]
	if !ok {
		end := min((tile+1)*tileSize, v.size)
		var err error
		if leaves, err = v.readLeaves(tile*tileSize, end); err != nil {
			return [32]byte{}, err
		}
		v.partial[tile] = leaves
	}
	off := begin - tile*tileSize
	return fold(leaves[off : off+int64(1)<<id.Level]), nil
}

// root is the root hash of the first v.size leaves: the perfect subtrees
// of its binary decomposition, folded right to left.
func (v *view) root() ([32]byte, error) {
	if v.size == 0 {
		return sha256.Sum256(nil), nil
	}
	var nodes [][32]byte
	var begin uint64
	for level := 63; level >= 0; level-- {
		if uint64(v.size)&(1<<level) == 0 {
			continue
		}
		h, err := v.node(compact.NewNodeID(uint(level), begin>>level))
		if err != nil {
			return h, err
		}
		nodes = append(nodes, h)
		begin += 1 << level
	}
	r := nodes[len(nodes)-1]
	for i := len(nodes) - 2; i >= 0; i-- {
		r = hashChildren(nodes[i], r)
	}
	return r, nil
}

// Root returns the root hash of the stream's tree at size.
func (t *Tree) Root(ctx context.Context, stream store.StreamID, size int64) ([32]byte, error) {
	v, err := t.view(ctx, stream, size)
	if err != nil {
		return [32]byte{}, err
	}
	return v.root()
}

// proofHashes fetches and rehashes the nodes of a proof.
func (v *view) proofHashes(n proof.Nodes) ([][32]byte, error) {
	hs := make([][]byte, 0, len(n.IDs))
	for _, id := range n.IDs {
		h, err := v.node(id)
		if err != nil {
			return nil, err
		}
		hs = append(hs, h[:])
	}
	hs, err := n.Rehash(hs, rfc6962.DefaultHasher.HashChildren)
	if err != nil {
		return nil, apperr.Wrap(err, "rehash proof")
	}
	out := make([][32]byte, len(hs))
	for i := range hs {
		copy(out[i][:], hs[i])
	}
	return out, nil
}

// Inclusion returns the inclusion proof of the entry seq in the tree of
// size, and the leaf hash it proves.
func (t *Tree) Inclusion(ctx context.Context, stream store.StreamID, seq, size int64) (leaf [32]byte, hashes [][32]byte, err error) {
	if seq < 1 || seq > size {
		return leaf, nil, apperr.New(apperr.Invalid, "entry %d is not in a tree of size %d", seq, size)
	}
	v, err := t.view(ctx, stream, size)
	if err != nil {
		return leaf, nil, err
	}
	n, err := proof.Inclusion(uint64(seq-1), uint64(size))
	if err != nil {
		return leaf, nil, apperr.Wrap(err, "inclusion proof")
	}
	if leaf, err = v.node(compact.NewNodeID(0, uint64(seq-1))); err != nil {
		return leaf, nil, err
	}
	hashes, err = v.proofHashes(n)
	return leaf, hashes, err
}

// Consistency returns the consistency proof between the tree's sizes
// size1 <= size2.
func (t *Tree) Consistency(ctx context.Context, stream store.StreamID, size1, size2 int64) ([][32]byte, error) {
	if size1 < 0 || size1 > size2 {
		return nil, apperr.New(apperr.Invalid, "sizes %d and %d: the first must be between 0 and the second", size1, size2)
	}
	v, err := t.view(ctx, stream, size2)
	if err != nil {
		return nil, err
	}
	n, err := proof.Consistency(uint64(size1), uint64(size2))
	if err != nil {
		return nil, apperr.Wrap(err, "consistency proof")
	}
	return v.proofHashes(n)
}
