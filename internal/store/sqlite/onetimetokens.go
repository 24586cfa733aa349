package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// createToken stores r; an unknown owner is NotFound, a reused hash a
// Conflict.
func (s *Store) createToken(ctx context.Context, tt sqlcodec.TokenTable, r sqlcodec.TokenRow) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		return insertToken(ctx, q, tt, r)
	})
	return s.internal(err, "create "+tt.What)
}

func insertToken(ctx context.Context, q querier, tt sqlcodec.TokenTable, r sqlcodec.TokenRow) error {
	_, err := q.ExecContext(ctx, "INSERT INTO "+tt.Table+" ("+tt.Cols()+") VALUES ("+placeholders(tt.NCols())+")", tt.Args(r)...)
	return constraint(err, tt.What)
}

// placeholders is n ? placeholders, comma-separated.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// getToken finds a token by hash without using it up.
func (s *Store) getToken(ctx context.Context, tt sqlcodec.TokenTable, hash []byte) (sqlcodec.TokenRow, error) {
	r, err := tt.Scan(s.rdb.QueryRowContext(ctx, "SELECT "+tt.Cols()+" FROM "+tt.Table+" WHERE hash = ?", hash))
	if errors.Is(err, sql.ErrNoRows) {
		return sqlcodec.TokenRow{}, notFound(tt.What)
	}
	return r, s.internal(err, "get "+tt.What)
}

// consumeToken deletes a token and returns it, in one statement, so of
// two concurrent uses exactly one gets it.
func (s *Store) consumeToken(ctx context.Context, tt sqlcodec.TokenTable, hash []byte) (sqlcodec.TokenRow, error) {
	var r sqlcodec.TokenRow
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		var err error
		r, err = tt.Scan(q.QueryRowContext(ctx, "DELETE FROM "+tt.Table+" WHERE hash = ? RETURNING "+tt.Cols(), hash))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(tt.What)
		}
		return err
	})
	if err != nil {
		return sqlcodec.TokenRow{}, s.internal(err, "consume "+tt.What)
	}
	return r, nil
}

// deleteTokens deletes owner's tokens of one purpose (all purposes when
// purpose is empty).
func (s *Store) deleteTokens(ctx context.Context, tt sqlcodec.TokenTable, owner, purpose string) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		_, err := q.ExecContext(ctx, "DELETE FROM "+tt.Table+" WHERE "+tt.Owner+" = ? AND (? = '' OR purpose = ?)",
			owner, purpose, purpose)
		return err
	})
	return s.internal(err, "delete "+tt.What+"s")
}

// deleteSession deletes the tokens of one session (none for an empty
// session) and says how many.
func (s *Store) deleteSession(ctx context.Context, tt sqlcodec.TokenTable, session string) (int, error) {
	var n int64
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		res, err := q.ExecContext(ctx, "DELETE FROM "+tt.Table+" WHERE "+tt.Session+" = ? AND ? <> ''", session, session)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, s.internal(err, "delete "+tt.What+" session")
	}
	return int(n), nil
}

// deleteExpiredTokens deletes the tokens expired at now and says how many.
func (s *Store) deleteExpiredTokens(ctx context.Context, tt sqlcodec.TokenTable, now time.Time) (int, error) {
	var n int64
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		res, err := q.ExecContext(ctx, "DELETE FROM "+tt.Table+" WHERE "+tt.Expired("?"), sqlcodec.ToNS(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		// Not n: a caller whose context ended gets its error while the
		// writer may still be running the job, and setting n.
		return 0, s.internal(err, "delete expired "+tt.What+"s")
	}
	return int(n), nil
}
