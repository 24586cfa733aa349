package cli

import (
	"context"
	"flag"

	"github.com/sigtrail/sigtrail/internal/backend"
	"github.com/sigtrail/sigtrail/internal/store"
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

// openStore opens the database the way serve does (see backend.Parse),
// without serve's exclusive hold on a SQLite file: an admin command may run
// beside the server. It never creates a database: see backend.Options.
func openStore(ctx context.Context, dataDir, dbURL string) (store.Store, error) {
	t, err := backend.Parse(dataDir, dbURL)
	if err != nil {
		return nil, err
	}
	return backend.Open(ctx, t, backend.Options{MustExist: true})
}
