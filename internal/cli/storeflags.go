package cli

import (
	"context"
	"flag"

	"github.com/sigtrail/sigtrail/internal/backend"
	"github.com/sigtrail/sigtrail/internal/sealing"
	"github.com/sigtrail/sigtrail/internal/store"
)

// defaultDataDir is serve's default --data-dir; commands that open the
// store share it so they find the same database.
const defaultDataDir = "./sigtrail-data"

// storeFlags adds serve's --data-dir, --db and --secret-key-file to a
// command's flags.
func storeFlags(fs *flag.FlagSet) (dataDir, db, keyFile *string) {
	dataDir = fs.String("data-dir", defaultDataDir, "directory of the embedded database")
	db = fs.String("db", "", "database URL (default: a SQLite file in --data-dir)")
	keyFile = fs.String("secret-key-file", "", "key file that seals secrets at rest (see docs/operations.md); the one serve uses")
	return dataDir, db, keyFile
}

// openStore opens the database the way serve does (see backend.Parse),
// without serve's exclusive hold on a SQLite file: an admin command may run
// beside the server. It never creates a database (see backend.Options);
// with a key file, secrets are sealed as serve seals them.
func openStore(ctx context.Context, dataDir, dbURL, keyFile string) (store.Store, error) {
	t, err := backend.Parse(dataDir, dbURL)
	if err != nil {
		return nil, err
	}
	st, err := backend.Open(ctx, t, backend.Options{MustExist: true})
	if err != nil {
		return nil, err
	}
	sealed, err := sealing.WrapFile(st, keyFile, nil)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	return sealed, nil
}
