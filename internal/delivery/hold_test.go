package delivery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlite"
)

// slowReload is the store with GetWebhook held at a gate, so a test can
// put work between a change being heard and the manager reading it, as a
// loaded host does.
type slowReload struct {
	*sqlite.Store
	mu   sync.Mutex
	gate chan struct{} // nil: no wait
}

func (s *slowReload) GetWebhook(ctx context.Context, stream store.StreamID) (store.Webhook, error) {
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return store.Webhook{}, ctx.Err()
		}
	}
	return s.Store.GetWebhook(ctx, stream)
}

// close makes reloads wait until the returned func is first called.
func (s *slowReload) close() (open func()) {
	gate := make(chan struct{})
	s.mu.Lock()
	s.gate = gate
	s.mu.Unlock()
	return sync.OnceFunc(func() {
		s.mu.Lock()
		s.gate = nil
		s.mu.Unlock()
		close(gate)
	})
}

func currentDispatcher(m *Manager, s store.StreamID) *dispatcher {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.disp[s]
}

// An entry appended after a change to the webhook or its destination was
// heard goes the new way, however long the manager takes to read the
// change: whether the dispatcher was idle (the entry would wake it) or
// busy with a request begun before the change (it would read on into the
// entry without a wake-up), it sends nothing more with its old settings.
// The request in flight at the change is sent again, to the new
// destination.
func TestNothingGoesTheOldWayAfterAChangeIsHeard(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		busy bool // a request to the old destination is in flight at the change
		hear func(m *Manager, h hook)
	}{
		{"webhook changed, idle", false, func(m *Manager, h hook) { m.WebhookChanged(h.stream) }},
		{"webhook changed, busy", true, func(m *Manager, h hook) { m.WebhookChanged(h.stream) }},
		{"destination changed, idle", false, func(m *Manager, h hook) { m.ReloadDestination(h.org, h.dest.ID) }},
		{"destination changed, busy", true, func(m *Manager, h hook) { m.ReloadDestination(h.org, h.dest.ID) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := &slowReload{Store: newStore(t)}
			oldDst, newDst := newRecorder(), newRecorder()
			answer := make(chan struct{})
			if tc.busy {
				// The second request (t2) hangs until the change is heard.
				oldDst.setAnswer(func(n int, w http.ResponseWriter, r *http.Request) {
					if n == 1 {
						<-answer
					}
				})
			}
			oldSrv, newSrv := httptest.NewServer(oldDst), httptest.NewServer(newDst)
			t.Cleanup(newSrv.Close)
			t.Cleanup(oldSrv.Close)
			answered := sync.OnceFunc(func() { close(answer) })
			t.Cleanup(answered) // before the server waits for its handlers
			h := addWebhook(t, st, oldSrv.URL, audit.FormatCEF)
			m := startManager(t, st, managerOpts{})
			record(t, m, entries(h, 1, 1))
			oldDst.next(t)
			waitState(t, st, h, func(s store.WebhookState) bool { return s.Cursor == 1 })
			if tc.busy {
				record(t, m, entries(h, 2, 1))
				oldDst.next(t) // in flight, unanswered
			}

			open := st.close()
			t.Cleanup(open)
			d := h.dest
			d.Endpoint, d.UpdatedAt = newSrv.URL, time.Now()
			if err := st.UpdateDestination(context.Background(), d); err != nil {
				t.Fatal(err)
			}
			old := currentDispatcher(m, h.stream)
			tc.hear(m, h)
			// Appended after the change, through this replica and through
			// another one (the feed's StreamGrew).
			record(t, m, entries(h, 3, 1))
			seqs, err := st.Append(context.Background(), entries(h, 4, 1))
			if err != nil {
				t.Fatal(err)
			}
			m.StreamGrew(h.stream, seqs[0])
			answered() // the old destination accepts what was in flight
			select {
			case r := <-oldDst.arrived:
				t.Fatalf("sent the old way after the change was heard: %v", traceIDs(t, testVerifier(t), r.lines))
			case <-old.done:
			case <-time.After(30 * time.Second):
				t.Fatal("the old dispatcher neither stopped nor sent")
			}

			open()
			from := 3
			if tc.busy {
				from = 2 // abandoned in flight, so sent again
			}
			var got []string
			for len(got) < 4-from+1 {
				got = append(got, traceIDs(t, testVerifier(t), newDst.next(t).lines)...)
			}
			if !slices.Equal(got, seqTraces(from, 4)) {
				t.Fatalf("new destination got %v, want %v", got, seqTraces(from, 4))
			}
			waitState(t, st, h, func(s store.WebhookState) bool { return s.Cursor == seqs[0] })
			if n := len(oldDst.arrived); n != 0 {
				t.Fatalf("old destination got %d more requests", n)
			}
		})
	}
}

// While ReloadAll (a resync: nothing heard in order) reloads a stream,
// its wake-ups wait, and the reload gives them to the dispatcher it keeps:
// an entry appended meanwhile is not left for the next sweep.
func TestWakeUpsHeldDuringAReloadAreGivenAfter(t *testing.T) {
	t.Parallel()
	st := &slowReload{Store: newStore(t)}
	dst := newRecorder()
	srv := httptest.NewServer(dst)
	defer srv.Close()
	h := addWebhook(t, st, srv.URL, audit.FormatCEF)
	m := startManager(t, st, managerOpts{})
	record(t, m, entries(h, 1, 1))
	dst.next(t)
	waitState(t, st, h, func(s store.WebhookState) bool { return s.Cursor == 1 })
	before := currentDispatcher(m, h.stream)

	open := st.close()
	m.ReloadAll()
	record(t, m, entries(h, 2, 1))
	if n := before.head.Load(); n != 1 {
		t.Fatalf("the dispatcher heard of seq %d while its reload was pending", n)
	}
	open()
	if got := traceIDs(t, testVerifier(t), dst.next(t).lines); !slices.Equal(got, seqTraces(2, 2)) {
		t.Fatalf("after the reload: %v", got)
	}
	if cur := currentDispatcher(m, h.stream); cur != before {
		t.Fatal("a reload that changed nothing restarted the dispatcher")
	}
}
