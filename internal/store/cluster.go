package store

import (
	"context"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
)

// Fence is the epoch of a lease its holder passes with every write the
// lease guards. A fenced write succeeds only while the lease still has that
// epoch, so a replica that lost its lease (paused, partitioned, slow) can
// change nothing after another took over. NoFence writes unconditionally:
// a single-process server (SQLite, whose data directory one process holds)
// owns all the work.
type Fence int64

// NoFence is the fence of a writer that needs no lease.
const NoFence Fence = 0

// ErrLeaseLost answers a fenced write whose lease has moved on (another
// epoch). Backends return it or wrap it; test with errors.Is.
var ErrLeaseLost = apperr.New(apperr.Conflict, "the lease guarding this write is held by another replica")

// ErrMaybeStored answers an Append whose commit may or may not have
// happened (the connection to the database was lost while committing):
// the caller must not say "nothing was stored", since sending the entries
// again may store them twice.
var ErrMaybeStored = apperr.New(apperr.Unavailable, "the database connection was lost while committing: the entries may have been stored")

// WebhookLease names the lease of a webhook's delivery: its holder is the
// one replica that sends the stream and writes its cursor, status and
// failed ranges.
func WebhookLease(stream StreamID) string { return "webhook/" + string(stream) }

// ReplayLease names the lease of a stream's replay job: its holder runs the
// job and writes its progress.
func ReplayLease(stream StreamID) string { return "replay/" + string(stream) }

// Lease is one piece of work that one replica at a time may do.
type Lease struct {
	Name  string
	Owner string // replica id; empty when free
	// Epoch grows by one each time the lease is taken by an owner that did
	// not hold it, and is never reused: it is the Fence of the holder.
	Epoch   Fence
	Expires time.Time
}

// Coordination is what replicas sharing one database agree through:
// heartbeats, leases with fencing epochs, and periodic work done once per
// period cluster-wide. Every backend implements it, so the same code runs
// on one SQLite process and on many PostgreSQL replicas.
type Coordination interface {
	// Heartbeat records that replica is alive until expires.
	Heartbeat(ctx context.Context, replica string, expires time.Time) error
	// LiveReplicas lists the replicas whose heartbeat expires after now
	// (one expiring at now is gone), sorted by their bytes.
	LiveReplicas(ctx context.Context, now time.Time) ([]string, error)
	// RemoveReplica deletes the replica's heartbeat and frees its leases
	// (keeping their epochs), for an orderly shutdown: the others take its
	// work at once instead of after the leases expire. An unknown replica
	// is no error.
	RemoveReplica(ctx context.Context, replica string) error

	// AcquireLease gives the named lease to owner until expires when it is
	// free, expired at now (Expires not after now), or already owner's. An owner that did not hold
	// it gets the next epoch; the holder renewing keeps its epoch. A lease
	// another owner holds unexpired is a Conflict (not ErrLeaseLost).
	AcquireLease(ctx context.Context, name, owner string, now, expires time.Time) (Lease, error)
	// RenewLeases extends each of held whose owner and epoch are unchanged
	// to expires, in one round trip, and returns those renewed; the rest
	// were lost.
	RenewLeases(ctx context.Context, held []Lease, expires time.Time) ([]Lease, error)
	// ReleaseLease frees l if it is still held with l's owner and epoch, so
	// another replica can take it at once; a lease already lost is no
	// error.
	ReleaseLease(ctx context.Context, l Lease) error
	// ListLeases lists the leases whose names start with prefix (a literal
	// string, compared as bytes), free ones included, sorted by name as Go
	// sorts strings (bytes; PostgreSQL needs COLLATE "C").
	ListLeases(ctx context.Context, prefix string) ([]Lease, error)

	// ClaimPeriodic reports whether the caller is the one to run the named
	// periodic task now: true for exactly one caller per period of length
	// every, cluster-wide.
	ClaimPeriodic(ctx context.Context, name string, now time.Time, every time.Duration) (bool, error)

	// PruneCoordination deletes what no replica will read again (see
	// prune.go): the replicas whose heartbeat expired before before, and
	// the webhook and replay leases that expired before before and whose
	// stream has neither a webhook nor a replay job. It says how many of
	// each it deleted. Concurrent calls are safe.
	PruneCoordination(ctx context.Context, before time.Time) (replicas, leases int, err error)
}

// RateLimits are token buckets kept in the database, so a limit holds
// whichever replica answers.
type RateLimits interface {
	// TakeRateToken takes one token of key's bucket at now (see GCRA);
	// when none is left it says how long until one is.
	TakeRateToken(ctx context.Context, key string, now time.Time, l RateLimit) (ok bool, wait time.Duration, err error)
	// DeleteIdleRateBuckets forgets the buckets that are full again at
	// now (a full bucket and no bucket behave the same), and says how many.
	DeleteIdleRateBuckets(ctx context.Context, now time.Time) (int, error)
}

// RateLimit is a token bucket: Burst requests at once, then one every
// Every.
type RateLimit struct {
	Every time.Duration
	Burst int
}

// GCRA is the generic cell rate algorithm, the token bucket kept as one
// time: tat, the theoretical arrival time of the next request (zero for a
// new key). It returns the tat to store when the request is allowed, and
// otherwise how long until it would be. Backends run it under a row lock.
func GCRA(tat, now time.Time, l RateLimit) (next time.Time, ok bool, wait time.Duration) {
	if tat.Before(now) {
		tat = now
	}
	next = tat.Add(l.Every)
	// The bucket holds Burst tokens: a request may arrive up to
	// Burst*Every before its theoretical time.
	allowAt := next.Add(-time.Duration(l.Burst) * l.Every)
	if allowAt.After(now) {
		return tat, false, allowAt.Sub(now)
	}
	return next, true, 0
}

// ChangeHandler receives what other replicas changed. Calls come from one
// goroutine and must not block for long.
type ChangeHandler interface {
	// StreamGrew: entries up to seq were committed to stream.
	StreamGrew(stream StreamID, seq int64)
	// WebhookChanged: the stream's webhook was created, changed or deleted.
	WebhookChanged(stream StreamID)
	// DestinationChanged: a destination was changed or deleted.
	DestinationChanged(orgID, destinationID string)
	// SigningKeysChanged: a signing key was added or removed.
	SigningKeysChanged()
	// ReplayJobChanged: the stream's replay job was created or replaced.
	ReplayJobChanged(stream StreamID)
	// MembershipChanged: a replica joined, left (RemoveReplica) or freed a
	// lease (ReleaseLease), so work may move now rather than at the next
	// periodic rebalance.
	MembershipChanged()
	// Resync: notifications may have been lost (the feed reconnected);
	// reload whatever the others could have changed.
	Resync()
}

// ChangeFeed is implemented by backends that several processes share
// (PostgreSQL): the writes that other replicas must hear of (Append,
// PutWebhook, DeleteWebhook, UpdateDestination, DeleteDestination,
// AddSigningKey, DeleteSigningKeysRetiredBefore, PutReplayJob, DeletePortal)
// announce themselves when they commit, to every replica, the writer's own
// included.
type ChangeFeed interface {
	// Listen calls h for every change until ctx ends, reconnecting (and
	// calling Resync) after a lost connection. It returns ctx's error, or
	// an error when it cannot listen at all at start.
	Listen(ctx context.Context, h ChangeHandler) error
}
