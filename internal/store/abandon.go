package store

import "context"

// dropIfAbandonedKey marks a context whose Append may be dropped when its
// caller stops waiting before the append is committed.
type dropIfAbandonedKey struct{}

// DropIfAbandoned marks ctx for an Append whose caller retries what it
// stopped waiting for: ingest tells its producer that the entries may have
// been stored, and the producer sends them again. A backend that queues
// appends (PostgreSQL's group commit) may then drop the append if its
// caller stops waiting while it is still queued, rather than store it
// twice. Unmarked appends (the server's own entries: access, revocation,
// report entries, whose callers do not retry) are committed even late.
func DropIfAbandoned(ctx context.Context) context.Context {
	return context.WithValue(ctx, dropIfAbandonedKey{}, true)
}

// DropsIfAbandoned reports whether ctx was marked by DropIfAbandoned.
func DropsIfAbandoned(ctx context.Context) bool {
	v, _ := ctx.Value(dropIfAbandonedKey{}).(bool)
	return v
}
