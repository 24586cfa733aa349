package sqlite

import (
	"context"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

// LeafHashes returns the stream's leaf hashes for seq in [from, to].
func (s *Store) LeafHashes(ctx context.Context, stream store.StreamID, from, to int64) ([][32]byte, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT hash FROM leaves
		WHERE sid = (SELECT sid FROM streams WHERE stream = ?) AND seq BETWEEN ? AND ? ORDER BY seq`,
		string(stream), from, to)
	if err != nil {
		return nil, s.internal(err, "read leaves")
	}
	defer rows.Close()
	var out [][32]byte
	for rows.Next() {
		var h []byte
		if err := rows.Scan(&h); err != nil {
			return nil, s.internal(err, "read leaves")
		}
		if len(h) != 32 {
			return nil, apperr.New(apperr.Internal, "leaf hash of %d bytes", len(h))
		}
		out = append(out, [32]byte(h))
	}
	return out, s.internal(rows.Err(), "read leaves")
}
