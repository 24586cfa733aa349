package delivery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

func running(m *Manager, s store.StreamID) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.disp[s] != nil
}

// waitDispatcher waits until the manager has applied a WebhookChanged.
func waitDispatcher(t *testing.T, m *Manager, s store.StreamID, want bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for running(m, s) != want {
		if time.Now().After(deadline) {
			t.Fatalf("dispatcher running=%v, want %v", !want, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// Disabling stops sending at once, even mid-request; enabling resumes from
// the stored cursor, so the abandoned batch is sent again.
func TestDisableAndEnable(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	dst := newRecorder()
	abandoned := make(chan struct{})
	dst.setAnswer(func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 { // hold the first request until the sender gives up on it
			<-r.Context().Done()
			close(abandoned)
		}
	})
	srv := httptest.NewServer(dst)
	defer srv.Close()
	h := addWebhook(t, st, srv.URL, audit.FormatCEF)
	m := startManager(t, st, managerOpts{})

	record(t, m, entries(h, 1, 2))
	dst.next(t)
	setEnabled(t, st, h, false)
	m.WebhookChanged(h.stream)
	<-abandoned
	waitDispatcher(t, m, h.stream, false)
	record(t, m, entries(h, 3, 1))
	if s := state(t, st, h); s.Cursor != 0 {
		t.Fatalf("cursor moved while disabled: %+v", s)
	}

	setEnabled(t, st, h, true)
	m.WebhookChanged(h.stream)
	var got []string
	for len(got) < 3 {
		got = append(got, traceIDs(t, testVerifier(t), dst.next(t).lines)...)
	}
	if !slices.Equal(got, seqTraces(1, 3)) {
		t.Fatalf("after re-enabling: %v", got)
	}
}

// A new destination takes over from the cursor; a deleted webhook stops.
func TestDestinationChange(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	oldDst, newDst := newRecorder(), newRecorder()
	oldSrv, newSrv := httptest.NewServer(oldDst), httptest.NewServer(newDst)
	defer oldSrv.Close()
	defer newSrv.Close()
	h := addWebhook(t, st, oldSrv.URL, audit.FormatCEF)
	m := startManager(t, st, managerOpts{})
	record(t, m, entries(h, 1, 1))
	oldDst.next(t)
	waitState(t, st, h, func(s store.WebhookState) bool { return s.Cursor == 1 })

	d := h.dest
	d.Endpoint, d.LogFormat, d.UpdatedAt = newSrv.URL, audit.FormatJSON, time.Now()
	if err := st.UpdateDestination(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if err := m.DestinationChanged(context.Background(), h.org, d.ID); err != nil {
		t.Fatal(err)
	}
	for { // the change applies within the manager loop's next turn
		m.mu.RLock()
		cur := m.disp[h.stream]
		m.mu.RUnlock()
		if cur != nil && cur.dest.Endpoint == newSrv.URL {
			break
		}
		time.Sleep(time.Millisecond)
	}
	record(t, m, entries(h, 2, 1))
	req := newDst.next(t)
	if len(req.lines) != 1 || req.lines[0][0] != '{' {
		t.Fatalf("new destination got %v, want one JSON line", req.lines)
	}
	select {
	case r := <-oldDst.arrived:
		t.Fatalf("old destination still got %v", r.lines)
	default:
	}

	if err := st.DeleteWebhook(context.Background(), h.stream); err != nil {
		t.Fatal(err)
	}
	m.WebhookChanged(h.stream)
	waitDispatcher(t, m, h.stream, false)
}

// A destination that answers slowly holds only its own dispatcher.
func TestSlowDestinationDoesNotDelayAnother(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	release := make(chan struct{})
	slow, fast := newRecorder(), newRecorder()
	slow.setAnswer(func(_ int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	slowSrv, fastSrv := httptest.NewServer(slow), httptest.NewServer(fast)
	defer slowSrv.Close()
	defer fastSrv.Close()
	hs := addWebhook(t, st, slowSrv.URL, audit.FormatCEF)
	hf := addWebhook(t, st, fastSrv.URL, audit.FormatCEF)
	m := startManager(t, st, managerOpts{})

	record(t, m, append(entries(hs, 1, 1), entries(hf, 1, 1)...))
	slow.next(t)
	for i := 2; i <= 5; i++ { // the fast one keeps delivering while the slow one hangs
		fast.next(t)
		waitState(t, st, hf, func(s store.WebhookState) bool { return s.Cursor == int64(i-1) })
		record(t, m, entries(hf, i, 1))
	}
	fast.next(t)
	if s := state(t, st, hs); s.Cursor != 0 {
		t.Fatalf("the slow destination's cursor moved: %+v", s)
	}
	close(release)
	waitState(t, st, hs, func(s store.WebhookState) bool { return s.Cursor == 1 && s.Status == store.StatusActive })
}

// With many enabled webhooks, an entry wakes its own dispatcher only.
func TestRecordWakesOnlyItsStream(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	dsts := make([]*recorder, 20)
	hooks := make([]hook, 20)
	for i := range dsts {
		dsts[i] = newRecorder()
		srv := httptest.NewServer(dsts[i])
		defer srv.Close()
		hooks[i] = addWebhook(t, st, srv.URL, audit.FormatCEF)
	}
	m := startManager(t, st, managerOpts{})
	record(t, m, entries(hooks[7], 1, 1))
	dsts[7].next(t)
	for i, d := range m.dispatchers() {
		if d.stream != hooks[7].stream && len(d.wake) != 0 {
			t.Fatalf("dispatcher %d was woken", i)
		}
	}
	for i, d := range dsts {
		if i != 7 && len(d.arrived) != 0 {
			t.Fatalf("destination %d got a request", i)
		}
	}
}
