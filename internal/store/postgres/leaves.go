package postgres

import (
	"context"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

// LeafHashes returns the stream's leaf hashes for seq in [from, to].
func (s *Store) LeafHashes(ctx context.Context, stream store.StreamID, from, to int64) ([][32]byte, error) {
	var out [][32]byte
	err := s.read(ctx, "read leaves", func(ctx context.Context, db querier) error {
		out = out[:0]
		rows, err := db.Query(ctx, `SELECT l.hash FROM leaves l JOIN streams s ON s.sid = l.sid
			WHERE s.stream = $1 AND l.seq BETWEEN $2 AND $3 ORDER BY l.seq`, string(stream), from, to)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var h []byte
			if err := rows.Scan(&h); err != nil {
				return err
			}
			if len(h) != 32 {
				return apperr.New(apperr.Internal, "leaf hash of %d bytes", len(h))
			}
			out = append(out, [32]byte(h))
		}
		return rows.Err()
	})
	return out, err
}
