package tlog

import (
	"context"

	"github.com/sigtrail/sigtrail/internal/store"
)

// Notary signs streams' checkpoints: the tree's root at a size, as a
// signed note.
type Notary struct {
	Tree   *Tree
	Signer KeySigner
}

// Checkpoint returns the stream's signed checkpoint at size.
func (n Notary) Checkpoint(ctx context.Context, stream store.StreamID, size int64) ([]byte, error) {
	root, err := n.Tree.Root(ctx, stream, size)
	if err != nil {
		return nil, err
	}
	return Sign(Checkpoint{Origin: Origin(string(stream)), Size: size, Root: root}, n.Signer)
}
