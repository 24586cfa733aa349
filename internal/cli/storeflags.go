package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/sigtrail/sigtrail/internal/backend"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/cluster"
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

// storeClock is the clock a command writes instants by: on a database
// several replicas share (PostgreSQL), the database's, as serve's replicas
// read it (cluster.DBClock), so that a key rotated or a token created from
// a host whose clock is off activates or expires when the replicas expect;
// otherwise env's clock.
func storeClock(ctx context.Context, env *Env, st store.Store) (clock.Clock, error) {
	base := env.Clock
	if base == nil {
		base = clock.Real{}
	}
	src, ok := sealing.Inner(st).(cluster.TimeSource)
	if !ok {
		return base, nil
	}
	c := cluster.NewDBClock(src, base, nil, nil)
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.Sync(sctx); err != nil {
		return nil, fmt.Errorf("reading the database's clock: %w", err)
	}
	return c, nil
}
