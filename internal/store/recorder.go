package store

import "context"

// Recorder appends entries to the event log and wakes whatever waits on
// their streams (the delivery dispatchers). Producers of entries (the API,
// the Dev Portal, the ingest API) depend on this, not on the log itself.
type Recorder interface {
	Record(ctx context.Context, entries []NewEntry) ([]int64, error)
}

// LogRecorder is a Recorder that only appends, for programs that run no
// dispatchers (CLI commands, tests of producers).
type LogRecorder struct{ Log EventLog }

// Record appends the entries.
func (r LogRecorder) Record(ctx context.Context, entries []NewEntry) ([]int64, error) {
	return r.Log.Append(ctx, entries)
}
