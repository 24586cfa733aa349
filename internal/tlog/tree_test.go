package tlog

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"sync/atomic"
	"testing"

	"github.com/sigtrail/sigtrail/internal/store"
)

// memLeaves is a Leaves over a slice, counting reads; the store backends
// are tested against the real databases in storetest, this checks the tree
// arithmetic over many sizes quickly.
type memLeaves struct {
	leaves [][32]byte
	reads  atomic.Int64
}

func (m *memLeaves) LeafHashes(_ context.Context, _ store.StreamID, from, to int64) ([][32]byte, error) {
	m.reads.Add(1)
	to = min(to, int64(len(m.leaves)))
	if from > to {
		return nil, nil
	}
	return append([][32]byte(nil), m.leaves[from-1:to]...), nil
}

func (m *memLeaves) LastSeq(context.Context, store.StreamID) (int64, error) {
	return int64(len(m.leaves)), nil
}

func leavesN(n int) [][32]byte {
	out := make([][32]byte, n)
	for i := range out {
		var b [9]byte
		binary.BigEndian.PutUint64(b[1:], uint64(i))
		out[i] = sha256.Sum256(b[:])
	}
	return out
}

// TestTreeMatchesCompactRange: roots at many sizes (tile edges and odd
// ones) agree with transparency-dev's compact range, and every inclusion
// and consistency proof the tree gives verifies with its proof package.
func TestTreeMatchesCompactRange(t *testing.T) {
	t.Parallel()
	const n = 1100
	m := &memLeaves{leaves: leavesN(n)}
	tr := NewTree(m)
	ctx := t.Context()
	sizes := []int64{0, 1, 2, 3, 7, 8, 255, 256, 257, 511, 512, 513, 767, 1024, 1025, 1099, 1100}
	roots := RootsAt(m.leaves, sizes)
	for i, size := range sizes {
		got, err := tr.Root(ctx, "s", size)
		if err != nil {
			t.Fatal(err)
		}
		if got != roots[i] {
			t.Fatalf("root at %d differs from the compact range's", size)
		}
	}
	for i, size := range sizes {
		if size == 0 {
			continue
		}
		for _, seq := range []int64{1, size/2 + 1, size} {
			leaf, hashes, err := tr.Inclusion(ctx, "s", seq, size)
			if err != nil {
				t.Fatal(err)
			}
			if leaf != m.leaves[seq-1] {
				t.Fatalf("inclusion of %d in %d: wrong leaf", seq, size)
			}
			if err := VerifyInclusion(seq, size, leaf, hashes, roots[i]); err != nil {
				t.Fatalf("inclusion of %d in %d: %v", seq, size, err)
			}
		}
		for j := range i + 1 {
			p, err := tr.Consistency(ctx, "s", sizes[j], size)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyConsistency(sizes[j], size, p, roots[j], roots[i]); err != nil {
				t.Fatalf("consistency %d..%d: %v", sizes[j], size, err)
			}
		}
	}
	if _, err := tr.Root(ctx, "s", n+1); err == nil {
		t.Fatal("a root past the stream's size")
	}
}

// TestTreeCachesTiles: once the full tiles are known, the latest root
// reads only the partial tile.
func TestTreeCachesTiles(t *testing.T) {
	t.Parallel()
	m := &memLeaves{leaves: leavesN(10*tileSize + 17)}
	tr := NewTree(m)
	if _, err := tr.Root(t.Context(), "s", int64(len(m.leaves))); err != nil {
		t.Fatal(err)
	}
	before := m.reads.Load()
	m.leaves = append(m.leaves, leavesN(5)...)
	if _, err := tr.Root(t.Context(), "s", int64(len(m.leaves))); err != nil {
		t.Fatal(err)
	}
	if reads := m.reads.Load() - before; reads != 1 {
		t.Fatalf("the second root read the store %d times, want 1", reads)
	}
}

// TestTreeRefusesMissingLeaves: a stream whose early leaves were never
// kept gives a Conflict, not a wrong root.
func TestTreeRefusesMissingLeaves(t *testing.T) {
	t.Parallel()
	tr := NewTree(gappy{})
	if _, err := tr.Root(t.Context(), "s", 5); err == nil {
		t.Fatal("root over missing leaves")
	}
}

type gappy struct{}

func (gappy) LeafHashes(context.Context, store.StreamID, int64, int64) ([][32]byte, error) {
	return nil, nil
}
func (gappy) LastSeq(context.Context, store.StreamID) (int64, error) { return 5, nil }
