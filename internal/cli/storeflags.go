package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlite"
)

// defaultDataDir is serve's default --data-dir; commands that open the
// store share it so they find the same database.
const defaultDataDir = "./sigtrail-data"

// storeFlags adds serve's --data-dir and --db to a command's flags.
func storeFlags(fs *flag.FlagSet) (dataDir, db *string) {
	dataDir = fs.String("data-dir", defaultDataDir, "directory of the embedded database")
	db = fs.String("db", "", "database URL (default: a SQLite file in --data-dir)")
	return dataDir, db
}

// openStore opens the database the way serve does: --db empty means the
// SQLite file sigtrail.db in --data-dir (created if needed); sqlite://PATH,
// file:PATH or a plain path name a SQLite file; postgres:// URLs select
// PostgreSQL.
func openStore(ctx context.Context, dataDir, dbURL string) (store.Store, error) {
	path, err := sqlitePath(dataDir, dbURL)
	if err != nil {
		return nil, err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
	}
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return st, nil
}

func sqlitePath(dataDir, dbURL string) (string, error) {
	switch {
	case dbURL == "":
		if dataDir == "" {
			return "", errors.New("--data-dir is empty")
		}
		return filepath.Join(dataDir, "sigtrail.db"), nil
	case strings.HasPrefix(dbURL, "postgres://"), strings.HasPrefix(dbURL, "postgresql://"):
		return "", errors.New("the PostgreSQL backend is not part of this build yet; use the embedded SQLite (omit --db)")
	case strings.HasPrefix(dbURL, "sqlite://"):
		return strings.TrimPrefix(dbURL, "sqlite://"), nil
	case strings.HasPrefix(dbURL, "file:"):
		return strings.TrimPrefix(dbURL, "file:"), nil
	}
	return dbURL, nil
}
