// Package backend opens the store a database URL names: the embedded
// SQLite file (the default) or a PostgreSQL database that several replicas
// share. The server and the admin commands open their store here, so they
// read a URL the same way.
package backend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/postgres"
	"github.com/sigtrail/sigtrail/internal/store/sqlite"
)

// Kind says which backend a URL names.
type Kind int

// The backends.
const (
	SQLite Kind = iota
	PostgreSQL
)

func (k Kind) String() string {
	if k == PostgreSQL {
		return "postgres"
	}
	return "sqlite"
}

// Target is a parsed database URL.
type Target struct {
	Kind Kind
	Path string // SQLite: the database file
	URL  string // PostgreSQL: the connection URL as given
}

// Parse reads a database URL: empty means the SQLite file sigtrail.db in
// dataDir; sqlite://PATH, file:PATH or a plain path name a SQLite file;
// postgres:// and postgresql:// URLs select PostgreSQL.
func Parse(dataDir, dbURL string) (Target, error) {
	switch {
	case dbURL == "":
		if dataDir == "" {
			return Target{}, errors.New("--data-dir is empty")
		}
		return Target{Kind: SQLite, Path: filepath.Join(dataDir, "sigtrail.db")}, nil
	case strings.HasPrefix(dbURL, "postgres://"), strings.HasPrefix(dbURL, "postgresql://"):
		return Target{Kind: PostgreSQL, URL: dbURL}, nil
	case strings.HasPrefix(dbURL, "sqlite://"):
		return Target{Kind: SQLite, Path: strings.TrimPrefix(dbURL, "sqlite://")}, nil
	case strings.HasPrefix(dbURL, "file:"):
		return Target{Kind: SQLite, Path: strings.TrimPrefix(dbURL, "file:")}, nil
	case strings.Contains(dbURL, "://"):
		scheme, _, _ := strings.Cut(dbURL, "://")
		return Target{}, fmt.Errorf("--db: unknown database scheme %q (use postgres://... or a SQLite file path)", scheme)
	}
	return Target{Kind: SQLite, Path: dbURL}, nil
}

// Options tune Open.
type Options struct {
	// Server marks the store of `sigtrail serve`: a SQLite file is then
	// held exclusively, so a second server on it is refused.
	Server bool
	// MustExist refuses a SQLite file that is not there yet instead of
	// creating it: an admin command pointed at the wrong --data-dir would
	// otherwise set up a second, empty database beside the server's.
	MustExist bool
	Logger    *slog.Logger
	// CallTimeout bounds one PostgreSQL store call (0: its default).
	CallTimeout time.Duration
}

// Open opens the target's store, creating a SQLite file's directory when
// needed. A PostgreSQL database that cannot be reached is an error at
// once, not a retry loop: a replica that cannot start says so.
func Open(ctx context.Context, t Target, o Options) (store.Store, error) {
	switch t.Kind {
	case PostgreSQL:
		st, err := postgres.Open(ctx, t.URL, postgres.Options{Logger: o.Logger, CallTimeout: o.CallTimeout})
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL %s: %w", Redact(t.URL), err)
		}
		return st, nil
	default:
		if o.MustExist {
			if _, err := os.Stat(t.Path); err != nil {
				return nil, fmt.Errorf("no database at %s (is --data-dir right? sigtrail serve creates it)", t.Path)
			}
		}
		if dir := filepath.Dir(t.Path); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("data dir: %w", err)
			}
		}
		st, err := sqlite.Open(ctx, t.Path, sqlite.Options{Logger: o.Logger, Exclusive: o.Server})
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return st, nil
	}
}

// Redact hides the password of a database URL, in its user part or its
// query, for logs and messages.
func Redact(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil || u.Scheme == "" {
		return dbURL
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Describe names the target for the start-up log line.
func (t Target) Describe() string {
	if t.Kind == PostgreSQL {
		return Redact(t.URL)
	}
	return t.Path
}
