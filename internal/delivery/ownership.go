package delivery

import (
	"github.com/sigtrail/sigtrail/internal/store"
)

// Ownership of streams in clustered mode. A coordinator (internal/cluster)
// holds the webhook leases and calls Own and Disown; the Manager runs a
// dispatcher only for the streams it owns, and every delivery-state write
// of that dispatcher carries the lease's fence. A single-process Manager
// owns every stream with store.NoFence, and Own and Disown mean nothing
// to it (a disowned stream's dispatcher would start again on its next
// reload).

// Own makes this replica deliver stream, writing with fence, from the
// stored cursor. It never blocks: the dispatcher starts on the Manager's
// goroutine, after the webhook and its destination are read.
func (m *Manager) Own(stream store.StreamID, fence store.Fence) {
	m.mu.Lock()
	m.owned[stream] = fence
	m.mu.Unlock()
	m.WebhookChanged(stream)
}

// Disown stops delivering stream and returns once its dispatcher has
// stopped: nothing more is sent or written for it here, so the lease can
// go to another replica. A batch in flight is abandoned; its new owner
// sends it again from the stored cursor.
func (m *Manager) Disown(stream store.StreamID) {
	m.lifeMu.Lock()
	defer m.lifeMu.Unlock()
	m.mu.Lock()
	delete(m.owned, stream)
	m.mu.Unlock()
	m.stopLocked(stream)
}

// fenceOf says whether this replica delivers stream, and with which fence.
func (m *Manager) fenceOf(stream store.StreamID) (store.Fence, bool) {
	if !m.cfg.Clustered {
		return store.NoFence, true
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	f, ok := m.owned[stream]
	return f, ok
}

// leaseLost is called by a dispatcher that stopped because a fenced write
// found its lease taken. It tells the coordinator, unless the stream was
// disowned or owned again under a newer fence meanwhile (the report would
// drop a lease that is fine).
func (m *Manager) leaseLost(d *dispatcher) {
	m.log.Warn("delivery: another replica took the webhook's lease; this one stops sending it",
		"stream", d.stream, "fence", d.fence)
	f, ok := m.fenceOf(d.stream)
	if ok && f == d.fence && m.deps.OnLeaseLost != nil {
		m.deps.OnLeaseLost(d.stream)
	}
}

// StreamGrew wakes the dispatcher of stream, if this replica runs one:
// another replica appended up to seq (the server calls it from the
// database's change feed).
func (m *Manager) StreamGrew(stream store.StreamID, seq int64) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if d := m.disp[stream]; d != nil && !m.holdWake(stream, seq) {
		d.notify(seq)
	}
}

// PokeAll wakes every dispatcher to read its stream again: notifications
// may have been lost (the change feed reconnected).
func (m *Manager) PokeAll() {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for s, d := range m.disp {
		if !m.holdWake(s, 0) {
			d.poke()
		}
	}
}
