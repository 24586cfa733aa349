package delivery

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store/sqlite"
)

// deliveringToOneOfTwo starts a manager whose webhook has delivered an
// entry to one sink, and returns a second sink to move it to.
func deliveringToOneOfTwo(t *testing.T) (*sqlite.Store, hook, *Manager, string, *recorder) {
	t.Helper()
	st := newStore(t)
	oldSink, newSink := newRecorder(), newRecorder()
	a, b := httptest.NewServer(oldSink), httptest.NewServer(newSink)
	t.Cleanup(a.Close)
	t.Cleanup(b.Close)
	h := addWebhook(t, st, a.URL, audit.FormatCEF)
	m := startManager(t, st, managerOpts{})
	record(t, m, entries(h, 0, 1))
	oldSink.next(t)
	return st, h, m, b.URL, newSink
}

// A destination changed where this manager did not hear of it (another
// replica, while the change feed was down) is picked up by ReloadAll.
func TestReloadAllPicksUpUnheardChanges(t *testing.T) {
	t.Parallel()
	st, h, m, newURL, newSink := deliveringToOneOfTwo(t)

	d := h.dest
	d.Endpoint, d.UpdatedAt = newURL, time.Now()
	if err := st.UpdateDestination(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	m.ReloadAll()
	// The reload runs on the manager's goroutine: wait for the new
	// dispatcher before appending, so the entry cannot go the old way.
	deadline := time.Now().Add(10 * time.Second)
	for {
		m.mu.RLock()
		cur := m.disp[h.stream]
		m.mu.RUnlock()
		if cur != nil && cur.dest.Endpoint == newURL {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("ReloadAll did not restart the dispatcher on the changed destination")
		}
		time.Sleep(time.Millisecond)
	}
	record(t, m, entries(h, 1, 1))
	newSink.next(t)
}

// RecheckWebhook leaves a dispatcher that sends as the store says running
// (a rename), and restarts one whose destination the store has changed
// since (a change that raced the rename).
func TestRecheckWebhookRestartsOnlyWhatDiffers(t *testing.T) {
	t.Parallel()
	st, h, m, newURL, newSink := deliveringToOneOfTwo(t)
	running := func() *dispatcher {
		m.mu.RLock()
		defer m.mu.RUnlock()
		return m.disp[h.stream]
	}
	// waitReloaded waits until the reload the recheck asked for is done.
	waitReloaded := func() {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			m.changedMu.Lock()
			_, held := m.held[h.stream]
			m.changedMu.Unlock()
			if !held {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("the recheck did not finish")
			}
		}
	}
	first := running()

	d := h.dest
	d.Name, d.UpdatedAt = "renamed", time.Now()
	if err := st.UpdateDestination(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	m.RecheckWebhook(h.stream)
	waitReloaded()
	if running() != first {
		t.Fatal("a rename restarted the dispatcher")
	}

	d.Endpoint = newURL
	if err := st.UpdateDestination(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	m.RecheckWebhook(h.stream)
	waitReloaded()
	if cur := running(); cur == first || cur == nil || cur.dest.Endpoint != newURL {
		t.Fatal("a recheck kept a dispatcher whose endpoint the store had changed")
	}
	record(t, m, entries(h, 1, 1))
	newSink.next(t)
}
