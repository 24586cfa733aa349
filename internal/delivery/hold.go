package delivery

import "github.com/sigtrail/sigtrail/internal/store"

// Nothing goes the old way once a change is heard.
//
// A change to a webhook or its destination is heard (WebhookChanged, from
// the change feed in commit order, or from this replica's API) some time
// before the manager's goroutine has read it and restarted the dispatcher:
// two store reads, far longer on a loaded host. Meanwhile the dispatcher
// would go on with its old settings: woken by an entry appended after the
// change, or busy with an entry appended before it (the PATCH's own
// authorization entry is on record before the change commits) and then
// reading on into the entries after it without any wake-up. Those would go
// to the old endpoint, with the old secret, and the new dispatcher would
// start past them: the new destination would never get entries that were
// acknowledged after its PATCH was answered.
//
// So from the moment a change is heard until the stream is reloaded, the
// stream's wake-ups are held (the reload gives them to the dispatcher it
// leaves running), and a dispatcher that is running is stopped short
// (interrupt) and started again by the reload, whatever it decides. A
// request in flight at that moment is abandoned and sent again from the
// stored cursor, as for any destination change. A change that does not
// alter delivery (a destination's name, store.SameDelivery) is not on the
// change feed, and the API that made it asks only for a recheck
// (RecheckWebhook), which stops nothing that sends as the store says.
// ReloadAll (a resync: nothing was heard in order) and DestinationChanged
// (a store read, out of the feed's order) only hold.

// reload asks the manager's goroutine to reload the streams, holding
// their wake-ups meanwhile. It never blocks.
func (m *Manager) reload(streams ...store.StreamID) {
	if len(streams) == 0 {
		return
	}
	m.changedMu.Lock()
	for _, s := range streams {
		m.changed[s] = struct{}{}
		if _, ok := m.held[s]; !ok {
			m.held[s] = 0
			m.holding.Add(1)
		}
	}
	m.changedMu.Unlock()
	m.signalChanged()
}

// interrupt stops stream's dispatcher, if one runs, without waiting for
// it: it sends nothing more with the settings it has, and the reload
// (apply) starts a new one.
func (m *Manager) interrupt(stream store.StreamID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d := m.disp[stream]; d != nil {
		m.cut[stream] = d
		d.cancel()
	}
}

// holdWake reports whether stream's wake-ups are held, keeping seq (the
// stream's new head, 0 for a plain poke) for when they are released. It
// costs an atomic load when no reload is pending.
func (m *Manager) holdWake(stream store.StreamID, seq int64) bool {
	if m.holding.Load() == 0 {
		return false
	}
	m.changedMu.Lock()
	defer m.changedMu.Unlock()
	head, ok := m.held[stream]
	if ok && seq > head {
		m.held[stream] = seq
	}
	return ok
}

// reloaded releases stream's wake-ups after a reload that succeeded,
// unless another reload was asked meanwhile (that one releases them), and
// wakes the dispatcher the reload left running, if any.
func (m *Manager) reloaded(stream store.StreamID) {
	m.changedMu.Lock()
	_, again := m.changed[stream]
	head, held := m.held[stream]
	if held && !again {
		delete(m.held, stream)
		m.holding.Add(-1)
	}
	m.changedMu.Unlock()
	if !held || again {
		return
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if d := m.disp[stream]; d != nil {
		// Woken even when no sequence number was kept: a held poke (a
		// sweep, a resync) carries none.
		d.notify(head)
	}
}

// ReloadDestination reloads the streams whose running dispatcher sends to
// the destination, which was changed elsewhere, as WebhookChanged does.
// It reads nothing and never blocks, so the change feed calls it in
// commit order, before the notifications of later appends; the webhooks
// that use the destination without a dispatcher here are found by
// DestinationChanged.
func (m *Manager) ReloadDestination(orgID, destinationID string) {
	m.mu.RLock()
	var streams []store.StreamID
	for s, d := range m.disp {
		if d.dest.ID == destinationID && d.dest.OrgID == orgID {
			streams = append(streams, s)
		}
	}
	m.mu.RUnlock()
	for _, s := range streams {
		m.WebhookChanged(s)
	}
}
