package delivery

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/sigtrail/sigtrail/internal/audit"
)

// Entries another replica appended (here: straight into the store, past
// Record) go out when the change feed says the stream grew, or when a
// resync pokes every dispatcher.
func TestStreamGrewAndPokeAll(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	dst := newRecorder()
	srv := httptest.NewServer(dst)
	defer srv.Close()
	h := addWebhook(t, st, srv.URL, audit.FormatCEF)
	m := startManager(t, st, managerOpts{})
	ctx := context.Background()

	seqs, err := st.Append(ctx, entries(h, 1, 2))
	if err != nil {
		t.Fatal(err)
	}
	m.StreamGrew(h.stream, seqs[1])
	if got := traceIDs(t, testVerifier(t), dst.next(t).lines); !slices.Equal(got, seqTraces(1, 2)) {
		t.Fatalf("after StreamGrew: %v", got)
	}
	if _, err := st.Append(ctx, entries(h, 3, 1)); err != nil {
		t.Fatal(err)
	}
	m.PokeAll()
	if got := traceIDs(t, testVerifier(t), dst.next(t).lines); !slices.Equal(got, seqTraces(3, 3)) {
		t.Fatalf("after PokeAll: %v", got)
	}
	m.StreamGrew("no-such-stream", 7) // no dispatcher: nothing to wake
}
