package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sigtrail/sigtrail/internal/store"
)

// Options tune a Store. The zero value is usable.
type Options struct {
	// Logger receives internal errors (default: discarded).
	Logger *slog.Logger
	// MaxConns caps the connection pool (default: pgxpool's, max(4, CPUs)),
	// not counting Listen's dedicated connection.
	MaxConns int32
	// ConnectTimeout bounds each attempt to connect (default 10s), at Open
	// and whenever the pool dials again.
	ConnectTimeout time.Duration
	// GroupCommitMaxBatch caps the entries one commit carries (default
	// 4096). A single Append larger than this still commits whole.
	GroupCommitMaxBatch int
	// WriteTimeout bounds one group commit (default 30s), so a database
	// that stops answering fails appends instead of hanging them.
	WriteTimeout time.Duration
	// CallTimeout bounds every other call, its retries included (default
	// 15s; a caller's earlier deadline wins): a database that stops
	// answering without closing the connection (a network partition, a
	// primary that vanished) makes calls Unavailable instead of hanging
	// them, and frees their pooled connections. A request makes a few
	// calls and an append, so it is answered (503) well within the HTTP
	// server's 60 s write timeout.
	CallTimeout time.Duration
}

// DefaultCallTimeout is Options.CallTimeout's default (serve's
// --db-call-timeout).
const DefaultCallTimeout = 15 * time.Second

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.GroupCommitMaxBatch <= 0 {
		o.GroupCommitMaxBatch = 4096
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 30 * time.Second
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
}

// Store is the PostgreSQL implementation of store.Store.
type Store struct {
	opts Options
	pool *pgxpool.Pool
	w    *writer

	closeOnce sync.Once
	closed    atomic.Bool
}

var (
	_ store.Store      = (*Store)(nil)
	_ store.ChangeFeed = (*Store)(nil)
)

// Open connects to the database at url (a postgres:// URL or a key=value
// connection string), migrates it and starts the append writer. A database
// that cannot be reached is an error after ConnectTimeout, not a retry.
// Close releases it.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	opts.defaults()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	// The dialer's own timeout would not cover TLS and authentication.
	cfg.ConnConfig.Config.ConnectTimeout = opts.ConnectTimeout
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, opts.ConnectTimeout)
	err = pool.Ping(pingCtx)
	cancel()
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: cannot reach %s: %w", redact(cfg.ConnConfig), err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	s := &Store{opts: opts, pool: pool}
	s.w = newWriter(s)
	return s, nil
}

// redact names a server without its password.
func redact(c *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.read(ctx, "ping", func(ctx context.Context, q querier) error {
		var one int
		return q.QueryRow(ctx, "SELECT 1").Scan(&one)
	})
}

// Close stops the writer (answering queued appends with an error) and
// closes the pool.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.w.close()
		s.pool.Close()
	})
	return nil
}

// errClosed answers calls made after Close.
var errClosed = errors.New("postgres: store is closed")
