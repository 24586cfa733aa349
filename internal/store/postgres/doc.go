// Package postgres is the PostgreSQL implementation of store.Store, for
// several sigtrail replicas sharing one database.
//
// Appends group-commit per process: one goroutine gathers concurrent Append
// calls into one statement, which takes each stream's counter under its row
// lock, inserts the entries and announces them (pg_notify), all in one
// implicit transaction, so sequence numbers are dense per stream and commit
// in order whichever replica appends. Writes that other replicas must hear
// of notify inside their transactions, so Listen (store.ChangeFeed) hears
// only what committed. Delivery-state and replay-job writes are fenced by
// lease epochs (store.Coordination); counters that guard security (login
// failures, rate buckets) are updated under row locks.
//
// Errors: NotFound and Conflict as the store package documents; a lost or
// unreachable database is apperr.Unavailable; context errors pass through;
// anything else is logged and returned as internal.
package postgres
