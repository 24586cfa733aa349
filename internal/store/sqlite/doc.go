// Package sqlite is sigtrail's embedded store: one SQLite file in WAL mode
// (modernc.org/sqlite, no cgo) implementing store.Store.
//
// SQLite has one writer, so the Store has exactly one writer connection,
// owned by one goroutine: appends queued while a commit is in flight are
// drained into the next transaction (group commit), and every other write
// runs on that goroutine too, so no write ever meets SQLITE_BUSY. Reads use
// a separate pool of query-only connections. The schema is migrated on Open
// from the embedded migrations directory.
package sqlite
