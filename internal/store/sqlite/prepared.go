package sqlite

import (
	"context"
	"database/sql"
)

// maxPrepared bounds the writer's statement cache. The writer's queries
// are constant strings (a few vary with the length of a list), so the
// cache fills once; past the bound a query is parsed per call as before.
const maxPrepared = 256

// preparedConn is the writer connection as a querier that prepares each
// query once and reuses it: SQLite parsing a statement costs more than
// running a one-row UPDATE, and the dispatcher's cursor move (BEGIN, UPDATE,
// COMMIT) runs after every delivered batch. Only the writer goroutine uses
// it.
type preparedConn struct{ w *writer }

// stmt returns the prepared statement of query; nil when the cache is full.
func (w *writer) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := w.prepared[query]; ok {
		return st, nil
	}
	if len(w.prepared) >= maxPrepared {
		return nil, nil
	}
	st, err := w.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	w.prepared[query] = st
	return st, nil
}

func (p preparedConn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := p.w.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return p.w.conn.ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

func (p preparedConn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.w.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return p.w.conn.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

func (p preparedConn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := p.w.stmt(ctx, query)
	if err != nil || st == nil {
		// Parsed per call; a query that does not prepare reports its
		// error through the row, as it did before the cache.
		return p.w.conn.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}
