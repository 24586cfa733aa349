package cluster

import (
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

// EventKind says what an Event announces.
type EventKind int

const (
	// Rebalanced: a round (heartbeat, renewals, hand-overs, acquisitions)
	// ended and the next one is scheduled; Held is how many leases the
	// replica holds now.
	Rebalanced EventKind = iota + 1
	// LeaseTaken: the Owner was told to deliver Stream with Fence.
	LeaseTaken
	// LeaseReleased: the Owner stopped Stream and the lease was freed, for
	// the preferred replica or because the webhook is gone or disabled.
	LeaseReleased
	// LeaseLost: the lease moved to another replica (a renewal dropped it,
	// or the Owner's fenced write was refused) and the Owner was stopped.
	LeaseLost
	// LeaseExpired: the replica could not renew in time and stopped the
	// Owner on its own, before another replica may take the lease.
	LeaseExpired
)

func (k EventKind) String() string {
	switch k {
	case Rebalanced:
		return "rebalanced"
	case LeaseTaken:
		return "lease taken"
	case LeaseReleased:
		return "lease released"
	case LeaseLost:
		return "lease lost"
	case LeaseExpired:
		return "lease expired"
	}
	return "unknown"
}

// Event is what a Coordinator announces through Config.OnEvent.
type Event struct {
	Kind    EventKind
	Replica string
	At      time.Time // the Coordinator's clock when it acted
	Stream  store.StreamID
	Fence   store.Fence
	Held    int // Rebalanced only
}
