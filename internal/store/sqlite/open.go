package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Options tune a Store. The zero value is usable.
type Options struct {
	// GroupCommitMaxBatch caps the entries one commit carries (default 4096).
	// A single Append larger than this still commits whole.
	GroupCommitMaxBatch int
	// GroupCommitMaxWait bounds how long the writer waits for more appends
	// when fewer callers are queued than its previous commit served
	// (default 200us; negative: never wait). A lone append after a quiet
	// moment never waits. In-process callers append again within
	// microseconds of their answer, but a producer over HTTP takes a
	// round trip or more: with 1ms, 16 producers sending one event per
	// request got 5,746 events/s through `sigtrail bench` against 6,592
	// and 7,567 with 200us, while 64 in-process appenders lost nothing
	// measurable (43,237 against 45,202 entries/s, within the noise).
	GroupCommitMaxWait time.Duration
	// ReadConns is the size of the read pool (default max(4, GOMAXPROCS)).
	ReadConns int
	// PageSize is the page size of a new database file (default 4096); an
	// existing file keeps its own.
	PageSize int
	// BusyTimeout bounds how long a connection waits on a lock another
	// process holds, e.g. a CLI command on the same file (default 5s).
	BusyTimeout time.Duration
	// Logger receives internal errors (default: discarded).
	Logger *slog.Logger
	// Clock times the group-commit wait (default clock.Real).
	Clock clock.Clock
	// Exclusive refuses to open a file another process opened with
	// Exclusive (a second `sigtrail serve` on the same data directory).
	// Tests that race two handles on one file leave it off.
	Exclusive bool
}

func (o *Options) defaults() {
	if o.GroupCommitMaxBatch <= 0 {
		o.GroupCommitMaxBatch = 4096
	}
	switch {
	case o.GroupCommitMaxWait == 0:
		o.GroupCommitMaxWait = 200 * time.Microsecond
	case o.GroupCommitMaxWait < 0:
		o.GroupCommitMaxWait = 0
	}
	if o.ReadConns <= 0 {
		o.ReadConns = max(4, runtime.GOMAXPROCS(0))
	}
	if o.PageSize <= 0 {
		o.PageSize = 4096
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
}

// Store is the SQLite implementation of store.Store.
type Store struct {
	opts Options
	rdb  *sql.DB // query-only pool
	wdb  *sql.DB // exactly one connection, used only by the writer goroutine
	w    *writer
	lock *os.File // held while open when Options.Exclusive
	// Statements of the per-event paths, prepared once: parsing the SQL
	// each time was about a tenth of the server's CPU at one event per
	// ingest request (issue 14). database/sql prepares them lazily on each
	// read connection.
	tokenByHash, readAfter *sql.Stmt

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path, migrates it and
// starts its writer. Close releases it.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	opts.defaults()
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	var lock *os.File
	if opts.Exclusive && path != ":memory:" && !strings.HasPrefix(path, "file:") {
		var err error
		if lock, err = lockExclusive(path); err != nil {
			return nil, err
		}
	}
	s, err := open(ctx, path, opts)
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		return nil, err
	}
	s.lock = lock
	return s, nil
}

func open(ctx context.Context, path string, opts Options) (*Store, error) {
	if err := ownerOnly(path); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	wdb, err := sql.Open("sqlite", dsn(path, opts, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)

	conn, err := wdb.Conn(ctx)
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := enterWAL(ctx, conn, opts.PageSize); err != nil {
		conn.Close()
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := checkPragmas(ctx, conn); err != nil {
		conn.Close()
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := migrate(ctx, conn); err != nil {
		conn.Close()
		wdb.Close()
		return nil, fmt.Errorf("sqlite: migrate %s: %w", path, err)
	}

	rdb, err := sql.Open("sqlite", dsn(path, opts, true))
	if err != nil {
		conn.Close()
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	rdb.SetMaxOpenConns(opts.ReadConns)
	rdb.SetMaxIdleConns(opts.ReadConns)
	if err := rdb.PingContext(ctx); err != nil {
		rdb.Close()
		conn.Close()
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	st := &Store{opts: opts, rdb: rdb, wdb: wdb}
	if err := st.prepare(ctx); err != nil {
		rdb.Close()
		conn.Close()
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if st.w, err = newWriter(ctx, conn, opts); err != nil {
		rdb.Close()
		conn.Close()
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return st, nil
}

// dsn builds the connection string. Every connection gets FULL sync (a
// commit is fsync'd before it returns), a busy timeout and foreign keys;
// readers are also query-only, so a bug cannot make them a second writer.
func dsn(path string, opts Options, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout.Milliseconds()))
	// No journal_mode here: WAL is a property of the file, which the writer
	// sets once it has chosen the page size (see enterWAL).
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	// Statement journals of multi-row INSERTs stay in memory instead of
	// temporary files (which cost an open and writes per statement).
	q.Add("_pragma", "temp_store(MEMORY)")
	// After a checkpoint, a WAL that grew past 64 MiB (a burst, a long
	// reader) is cut back instead of keeping its size on disk for good.
	q.Add("_pragma", "journal_size_limit(67108864)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		// The writer is alone, so taking the write lock at BEGIN costs
		// nothing and rules out lock upgrades.
		q.Set("_txlock", "immediate")
	}
	// A URI filename: SQLite decodes %XX in the path, and '?' and '#' would
	// end it, so those three are escaped and any path works.
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + escaped + "?" + q.Encode()
}

// enterWAL sets the page size, which only a new file in rollback mode
// accepts (elsewhere it is a no-op), then switches to WAL.
func enterWAL(ctx context.Context, conn *sql.Conn, pageSize int) error {
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA page_size = %d", pageSize)); err != nil {
		return err
	}
	_, err := conn.ExecContext(ctx, "PRAGMA journal_mode = WAL")
	return err
}

// checkPragmas verifies the settings durability depends on really took.
func checkPragmas(ctx context.Context, conn *sql.Conn) error {
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if mode != "wal" {
		return fmt.Errorf("journal_mode is %q, want wal", mode)
	}
	var syncMode int
	if err := conn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&syncMode); err != nil {
		return err
	}
	if syncMode != 2 {
		return fmt.Errorf("synchronous is %d, want 2 (FULL)", syncMode)
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.PingContext(ctx); err != nil {
		return s.internal(err, "ping")
	}
	var one int
	if err := s.rdb.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return s.internal(err, "ping")
	}
	return nil
}

// Close stops the writer (answering queued requests with an error) and
// closes the database.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = errors.Join(s.w.close(), s.rdb.Close(), s.wdb.Close())
		if s.lock != nil {
			// Released last, once nothing of this process touches the file.
			s.closeErr = errors.Join(s.closeErr, s.lock.Close())
		}
	})
	return s.closeErr
}

// readAfterQuery is Read's query: Query's for a stream, AfterSeq and Limit.
const readAfterQuery = "SELECT seq, record FROM entries WHERE sid = (SELECT sid FROM streams WHERE stream = ?) AND seq > ? ORDER BY seq LIMIT ?"

func (s *Store) prepare(ctx context.Context) (err error) {
	if s.tokenByHash, err = s.rdb.PrepareContext(ctx, "SELECT "+tokenCols+" FROM tokens WHERE hash = ?"); err != nil {
		return err
	}
	s.readAfter, err = s.rdb.PrepareContext(ctx, readAfterQuery)
	return err
}

// internal logs err and returns an internal error that hides it.
func (s *Store) internal(err error, op string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	s.opts.Logger.Error("sqlite store", "op", op, "err", err)
	return apperr.Wrap(err, "store: %s", op)
}

// ownerOnly makes the database file readable by its owner only, creating it
// if need be: it holds the signing keys and the destinations' secrets.
// SQLite gives its -wal and -shm files the database file's mode.
func ownerOnly(path string) error {
	if path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return f.Chmod(fi.Mode().Perm() &^ 0o077)
	}
	return nil
}
