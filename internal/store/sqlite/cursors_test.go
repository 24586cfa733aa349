package sqlite

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
)

// cursorWebhook makes an org and its webhook on stream, whose cursor
// starts at 0 (the stream is empty).
func cursorWebhook(t *testing.T, s *Store, stream store.StreamID) {
	t.Helper()
	ctx := context.Background()
	org := store.Org{ID: string(stream), Name: "org-" + string(stream), CreatedAt: time.Unix(1_764_000_000, 0).UTC()}
	if err := s.CreateOrg(ctx, org); err != nil {
		t.Fatal(err)
	}
	if err := s.PutWebhook(ctx, store.Webhook{Stream: stream, OrgID: org.ID, Enabled: true, UpdatedAt: org.CreatedAt}); err != nil {
		t.Fatal(err)
	}
}

// storedCursor is the cursor as committed in the file, read on a
// connection of the read pool (not GetWebhookState, which shows deferred
// moves too).
func storedCursor(t *testing.T, s *Store, stream store.StreamID) int64 {
	t.Helper()
	st, err := getWebhookState(context.Background(), s.rdb, stream)
	if err != nil {
		t.Fatal(err)
	}
	return st.Cursor
}

// waitStored waits until the committed cursor is seq.
func waitStored(t *testing.T, s *Store, stream store.StreamID, seq int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for storedCursor(t, s, stream) != seq {
		if time.Now().After(deadline) {
			t.Fatalf("committed cursor %d, want %d", storedCursor(t, s, stream), seq)
		}
		time.Sleep(time.Millisecond)
	}
}

// A deferred move shows at once, is committed by the next append's
// transaction, never goes backwards, and without any transaction is
// committed cursorFlushWait later by one of the writer's own.
func TestDeferredCursorRidesTheNextTransaction(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Unix(1_764_000_000, 0))
	s := openTest(t, Options{Clock: clk})
	ctx := context.Background()
	st := store.StreamID("0192f0a4-0000-7000-8000-0000000000e1")
	cursorWebhook(t, s, st)
	if _, err := s.Append(ctx, []store.NewEntry{benchEntry(st, 1), benchEntry(st, 2), benchEntry(st, 3)}); err != nil {
		t.Fatal(err)
	}

	s.DeferCursor(st, 2)
	s.DeferCursor(st, 1) // never backwards
	if got, err := s.GetWebhookState(ctx, st); err != nil || got.Cursor != 2 {
		t.Fatalf("GetWebhookState: cursor %d (%v), want 2 at once", got.Cursor, err)
	}
	if got := storedCursor(t, s, st); got != 0 {
		t.Fatalf("committed cursor %d before any transaction, want 0", got)
	}
	if _, err := s.Append(ctx, []store.NewEntry{benchEntry(st, 4)}); err != nil {
		t.Fatal(err)
	}
	if got := storedCursor(t, s, st); got != 2 {
		t.Fatalf("committed cursor %d after the next append, want 2", got)
	}

	// No append follows: the writer's flush timer commits it.
	s.DeferCursor(st, 4)
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Contains(clk.Pending(), cursorFlushWait) {
		if time.Now().After(deadline) {
			t.Fatalf("no flush timer; pending %v", clk.Pending())
		}
		time.Sleep(time.Millisecond)
	}
	if got := storedCursor(t, s, st); got != 2 {
		t.Fatalf("committed cursor %d before the flush, want 2", got)
	}
	clk.Advance(cursorFlushWait)
	waitStored(t, s, st, 4)
}

// Close commits the moves still deferred, so a clean restart sends
// nothing twice; a deleted webhook's move is dropped with it.
func TestDeferredCursorAtCloseAndDelete(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sigtrail.db")
	ctx := context.Background()
	st, gone := store.StreamID("0192f0a4-0000-7000-8000-0000000000e2"), store.StreamID("0192f0a4-0000-7000-8000-0000000000e3")
	s, err := Open(ctx, path, Options{Clock: clock.NewFake(time.Unix(1_764_000_000, 0))})
	if err != nil {
		t.Fatal(err)
	}
	cursorWebhook(t, s, st)
	cursorWebhook(t, s, gone)
	if _, err := s.Append(ctx, []store.NewEntry{benchEntry(st, 1), benchEntry(st, 2), benchEntry(gone, 1)}); err != nil {
		t.Fatal(err)
	}
	s.DeferCursor(st, 2)
	s.DeferCursor(gone, 1)
	if err := s.DeleteWebhook(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if s.w.cursors.pendingCursor(gone) != 0 {
		t.Fatal("the deleted webhook's move is still pending")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openAt(t, path, Options{})
	if got := storedCursor(t, s2, st); got != 2 {
		t.Fatalf("cursor %d after a clean close, want 2", got)
	}
}
