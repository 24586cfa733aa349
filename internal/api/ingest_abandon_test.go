package api

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/sigtrail/sigtrail/internal/store"
)

// appendMarks notes, for each Append, whether its context was marked
// store.DropIfAbandoned.
type appendMarks struct {
	store.Store
	mu    sync.Mutex
	marks []bool
}

func (a *appendMarks) Append(ctx context.Context, entries []store.NewEntry) ([]int64, error) {
	a.mu.Lock()
	a.marks = append(a.marks, store.DropsIfAbandoned(ctx))
	a.mu.Unlock()
	return a.Store.Append(ctx, entries)
}

func (a *appendMarks) take() []bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.marks
	a.marks = nil
	return out
}

// Ingest's appends may be dropped when abandoned in a backend's queue (the
// producer is told they may have been stored and sends them again); the
// API's own audit entries may not, as nobody sends them again.
func TestOnlyIngestAppendsMayBeDroppedWhenAbandoned(t *testing.T) {
	t.Parallel()
	var am *appendMarks
	h := newHarness(t, Config{}, func(d *Deps) {
		am = &appendMarks{Store: d.Store}
		d.Store = am
		d.Recorder = store.LogRecorder{Log: am}
	})
	org, admin := h.org("o")
	producer := h.token(org, store.RoleProducer, false, 0)
	am.take()

	h.callWith(http.MethodPost, "/v1/entries", producer, `{"name":"Authz.control-planes","action":"list","granted":true,"principal_id":"u-2","trace_id":"t","user_agent":"gw/1"}`+"\n", ndjson).expect(t, http.StatusAccepted)
	if got := am.take(); len(got) != 1 || !got[0] {
		t.Errorf("ingest's appends marked %v, want one, marked", got)
	}
	h.call(http.MethodGet, "/v3/audit-log-destinations", admin, nil).expect(t, http.StatusOK)
	h.call(http.MethodGet, "/v3/audit-log-destinations", "", nil).problem(t, http.StatusUnauthorized)
	got := am.take()
	if len(got) == 0 {
		t.Fatal("the API's requests appended nothing")
	}
	for _, m := range got {
		if m {
			t.Errorf("an audit entry of the API's own was marked droppable: %v", got)
			break
		}
	}
}
