package delivery

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlite"
)

// pausingStore holds the first AdvanceCursor until released, and refuses
// it when its context has ended by then, as a store over a network does.
// It embeds the interface, so it has no DeferCursor and every cursor move
// goes through AdvanceCursor (as on PostgreSQL).
type pausingStore struct {
	store.Store
	entered chan struct{}
	release chan struct{}
}

func (s *pausingStore) AdvanceCursor(ctx context.Context, stream store.StreamID, fence store.Fence, seq int64, failed *store.SeqRange) error {
	select {
	case s.entered <- struct{}{}:
		<-s.release
	default:
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.Store.AdvanceCursor(ctx, stream, fence, seq, failed)
}

// A dispatcher stopped between the SIEM's 2xx and the cursor write (a
// hand-over, a restart) still records the batch as delivered, so the next
// owner does not send it again.
func TestStopAfterTheAnswerStillMovesTheCursor(t *testing.T) {
	t.Parallel()
	var base *sqlite.Store = newStore(t)
	st := &pausingStore{Store: base, entered: make(chan struct{}), release: make(chan struct{})}
	rc := newRecorder()
	sink := httptest.NewServer(rc)
	t.Cleanup(sink.Close)
	h := addWebhook(t, st, sink.URL, audit.FormatCEF)
	m := startManager(t, st, managerOpts{})
	record(t, m, entries(h, 0, 3))
	select {
	case <-st.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the batch was not settled")
	}
	// Stop the dispatcher while its cursor write is under way: disable the
	// webhook; the manager cancels the dispatcher and waits for it.
	setEnabled(t, st, h, false)
	stopped := make(chan struct{})
	go func() { m.WebhookChanged(h.stream); close(stopped) }()
	deadline := time.Now().Add(10 * time.Second)
	for m.hasDispatcher(h.stream) {
		if time.Now().After(deadline) {
			t.Fatal("the dispatcher was not stopped")
		}
		time.Sleep(time.Millisecond)
	}
	close(st.release)
	<-stopped
	deadline = time.Now().Add(10 * time.Second)
	for state(t, st, h).Cursor != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("cursor %d after the SIEM accepted entries 1-3, want 3", state(t, st, h).Cursor)
		}
		time.Sleep(time.Millisecond)
	}
}

// hasDispatcher reports whether a dispatcher of stream is registered.
func (m *Manager) hasDispatcher(stream store.StreamID) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.disp[stream] != nil
}
