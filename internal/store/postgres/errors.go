package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sigtrail/sigtrail/internal/apperr"
)

// querier is what reads and writes need; *pgxpool.Pool and pgx.Tx have it.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

var (
	_ querier = (*pgxpool.Pool)(nil)
	_ querier = (pgx.Tx)(nil)
)

// maxAttempts bounds how often read and write run a transaction that
// failed without committing: a lost connection (the pool dials anew) or a
// deadlock or serialization failure.
const maxAttempts = 3

// read runs fn on the pool, again on a fresh connection when the one it got
// turned out dead, and maps its error. The whole call is bounded by
// CallTimeout; running out of it is Unavailable, the caller's own deadline
// its context's error.
func (s *Store) read(ctx context.Context, op string, fn func(ctx context.Context, q querier) error) error {
	return s.readWithin(ctx, s.opts.CallTimeout, op, fn)
}

// readWithin is read bounded by limit instead of CallTimeout, for a read
// that may rightly take longer (a replay counting its window).
func (s *Store) readWithin(ctx context.Context, limit time.Duration, op string, fn func(ctx context.Context, q querier) error) error {
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var err error
	for attempt := 1; ; attempt++ {
		if err = fn(cctx, s.pool); err == nil || attempt == maxAttempts || !s.retry(cctx, err) {
			return s.fail(ctx, err, op)
		}
	}
}

// write runs fn in a transaction and commits it. A transaction that
// failed without committing (lost connection, deadlock, serialization
// failure) is run again from the start, so fn must set its results afresh
// each time; a connection lost during COMMIT is not, since it may have
// committed. CallTimeout bounds it as it bounds read.
func (s *Store) write(ctx context.Context, op string, fn func(ctx context.Context, tx pgx.Tx) error) error {
	cctx, cancel := context.WithTimeout(ctx, s.opts.CallTimeout)
	defer cancel()
	var err error
	for attempt := 1; ; attempt++ {
		var committing bool
		err = s.tx(cctx, fn, &committing)
		if err == nil || (committing && !refused(err)) || attempt == maxAttempts || !s.retry(cctx, err) {
			return s.fail(ctx, err, op)
		}
	}
}

func (s *Store) tx(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error, committing *bool) error {
	// READ COMMITTED whatever default_transaction_isolation says: the
	// store's transactions are written for it (re-checks after a row
	// lock, ON CONFLICT then re-select, deletes that must see rows
	// committed while they waited, as CreateLoginGrant and
	// SetIdentityPassword rely on), and a snapshot taken earlier would
	// miss them. It costs no round trip (it is the BEGIN's own clause).
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(ctx, tx); err != nil {
		return err
	}
	*committing = true
	return tx.Commit(ctx)
}

// retry reports whether a failed statement that committed nothing is worth
// running again, and prepares for it: after a lost connection the pool
// drops its other connections, which died with it most likely (a restart,
// a failover); after a deadlock it waits a moment.
func (s *Store) retry(ctx context.Context, err error) bool {
	if ctx.Err() != nil || isApp(err) {
		return false
	}
	switch {
	case lostConn(err):
		s.pool.Reset()
		return true
	case sqlState(err) == "40001" || sqlState(err) == "40P01":
		time.Sleep(5 * time.Millisecond)
		return true
	}
	return false
}

// fail maps err to what the store promises: application errors and the
// caller's context errors as they are, a lost or unreachable database
// Unavailable, anything else logged and internal.
func (s *Store) fail(ctx context.Context, err error, op string) error {
	switch {
	case err == nil:
		return nil
	case isApp(err):
		return err
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, errClosed) || s.closed.Load():
		return apperr.New(apperr.Unavailable, "store is closed")
	case unavailable(err):
		if lostConn(err) {
			s.pool.Reset()
		}
		s.opts.Logger.Warn("postgres store: database unavailable", "op", op, "err", err)
		return &apperr.Error{Code: apperr.Unavailable, Message: "database unavailable", Err: err}
	}
	s.opts.Logger.Error("postgres store", "op", op, "err", err)
	return apperr.Wrap(err, "store: %s", op)
}

// refused reports whether the server answered err, so the statement (or
// COMMIT) it answers committed nothing, or the driver failed before
// sending it; other failures (a connection lost while waiting for the
// answer) leave the outcome unknown.
func refused(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) || pgconn.SafeToRetry(err)
}

func isApp(err error) bool {
	var ae *apperr.Error
	return errors.As(err, &ae)
}

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// lostConn reports whether err means the connection is gone or could not
// be made: the server closed it, the network failed, a timeout inside the
// driver, a dial that failed.
func lostConn(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), pgconn.Timeout(err),
		errors.Is(err, pgconn.ErrConnClosed), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, context.DeadlineExceeded): // a driver timeout; the caller's own was handled before
		return true
	}
	switch sqlState(err) {
	case "57P01", "57P02", "57P03": // admin, crash shutdown; cannot connect now
		return true
	case "25006": // read-only transaction: a failover left us on a standby
		return true
	}
	return len(sqlState(err)) == 5 && sqlState(err)[:2] == "08" // connection exception
}

// unavailable reports whether err means "try again later": the database is
// unreachable, overloaded or shutting down.
func unavailable(err error) bool {
	if lostConn(err) {
		return true
	}
	switch sqlState(err) {
	case "53300", "53400", "40001", "40P01", "55P03", "57014": // too many connections, limits, retryable clashes, canceled
		return true
	case "53100", "53200", "54000": // disk full, out of memory, a program limit (the NOTIFY queue full): the operator's to fix, the client's to retry
		return true
	}
	return false
}

// constraint turns a constraint violation into the application error the
// store promises; what names the kind of row.
func constraint(err error, what string) error {
	switch sqlState(err) {
	case "23505":
		return apperr.New(apperr.Conflict, "%s already exists", what)
	case "23503":
		return apperr.New(apperr.NotFound, "%s refers to something that does not exist", what)
	}
	return err
}

func notFound(what string) error { return apperr.New(apperr.NotFound, "%s not found", what) }

// mustAffect turns "no row changed" into NotFound.
func mustAffect(tag pgconn.CommandTag, err error) func(what string) error {
	return func(what string) error {
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound(what)
		}
		return nil
	}
}

// scanner is a row to scan: pgx.Row or pgx.CollectableRow.
type scanner interface{ Scan(dest ...any) error }

// collect scans every row and closes rows.
func collect[T any](rows pgx.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
}

// lockRow runs a SELECT ... FOR UPDATE (or FOR SHARE) of one row; no row
// is NotFound(what).
func lockRow(ctx context.Context, tx pgx.Tx, what, query string, a ...any) error {
	var one int
	err := tx.QueryRow(ctx, query, a...).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound(what)
	}
	return err
}
