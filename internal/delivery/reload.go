package delivery

import "github.com/sigtrail/sigtrail/internal/store"

// ReloadAll makes the manager read again the webhook and destination of
// every stream it delivers or owns, restarting only the dispatchers whose
// delivery changed. A replica calls it when changes made elsewhere may
// have gone unheard: the change feed reconnected, or reloading after a
// destination change failed. Without it a replica could keep sending to an
// endpoint, with a secret, that another replica's user replaced. Their
// wake-ups wait for the reload, as after WebhookChanged.
func (m *Manager) ReloadAll() {
	m.mu.RLock()
	streams := make([]store.StreamID, 0, len(m.disp)+len(m.owned))
	for s := range m.disp {
		streams = append(streams, s)
	}
	for s := range m.owned {
		if m.disp[s] == nil {
			streams = append(streams, s)
		}
	}
	m.mu.RUnlock()
	m.reload(streams...)
}
