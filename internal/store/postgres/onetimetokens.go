package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// createToken stores r; an unknown owner is NotFound, a reused hash a
// Conflict.
func (s *Store) createToken(ctx context.Context, tt sqlcodec.TokenTable, r sqlcodec.TokenRow) error {
	return s.write(ctx, "create "+tt.What, func(ctx context.Context, tx pgx.Tx) error {
		return insertToken(ctx, tx, tt, r)
	})
}

func insertToken(ctx context.Context, tx pgx.Tx, tt sqlcodec.TokenTable, r sqlcodec.TokenRow) error {
	_, err := tx.Exec(ctx, "INSERT INTO "+tt.Table+" ("+tt.Cols()+") VALUES ("+placeholders(tt.NCols())+")", tt.Args(r)...)
	return constraint(err, tt.What)
}

// placeholders is $1 to $n, comma-separated.
func placeholders(n int) string {
	ph := make([]string, n)
	for i := range ph {
		ph[i] = "$" + strconv.Itoa(i+1)
	}
	return strings.Join(ph, ",")
}

// getToken finds a token by hash without using it up.
func (s *Store) getToken(ctx context.Context, tt sqlcodec.TokenTable, hash []byte) (sqlcodec.TokenRow, error) {
	return getOne(s, ctx, "get "+tt.What, tt.What, "SELECT "+tt.Cols()+" FROM "+tt.Table+" WHERE hash = $1",
		func(sc scanner) (sqlcodec.TokenRow, error) { return tt.Scan(sc) }, hash)
}

// consumeToken deletes a token and returns it, in one statement, so of
// two concurrent uses exactly one gets it.
func (s *Store) consumeToken(ctx context.Context, tt sqlcodec.TokenTable, hash []byte) (sqlcodec.TokenRow, error) {
	var r sqlcodec.TokenRow
	err := s.write(ctx, "consume "+tt.What, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		r, err = tt.Scan(tx.QueryRow(ctx, "DELETE FROM "+tt.Table+" WHERE hash = $1 RETURNING "+tt.Cols(), hash))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound(tt.What)
		}
		return err
	})
	if err != nil {
		return sqlcodec.TokenRow{}, err
	}
	return r, nil
}

// deleteTokens deletes owner's tokens of one purpose (all purposes when
// purpose is empty).
func (s *Store) deleteTokens(ctx context.Context, tt sqlcodec.TokenTable, owner, purpose string) error {
	return s.write(ctx, "delete "+tt.What+"s", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM "+tt.Table+" WHERE "+tt.Owner+" = $1 AND ($2 = '' OR purpose = $2)", owner, purpose)
		return err
	})
}

// deleteSession deletes the tokens of one session (none for an empty
// session) and says how many.
func (s *Store) deleteSession(ctx context.Context, tt sqlcodec.TokenTable, session string) (int, error) {
	var n int64
	err := s.write(ctx, "delete "+tt.What+" session", func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM "+tt.Table+" WHERE "+tt.Session+" = $1 AND $1 <> ''", session)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// deleteExpiredTokens deletes the tokens expired at now and says how many.
func (s *Store) deleteExpiredTokens(ctx context.Context, tt sqlcodec.TokenTable, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, "delete expired "+tt.What+"s", func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM "+tt.Table+" WHERE "+tt.Expired("$1"), sqlcodec.ToNS(now))
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}
