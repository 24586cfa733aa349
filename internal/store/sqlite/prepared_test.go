package sqlite

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

// synchronousIn reads the writer connection's synchronous setting inside a
// durable write transaction, which is what an append commits with.
func synchronousIn(t *testing.T, s *Store) int {
	t.Helper()
	var mode int
	if err := s.w.do(context.Background(), func(ctx context.Context, q querier) error {
		return q.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&mode)
	}); err != nil {
		t.Fatalf("reading synchronous: %v", err)
	}
	return mode
}

// TestLazyWritesLeaveAppendsDurable checks that a lazy transaction (the
// cursor move) commits at synchronous=NORMAL and that every other write,
// appends included, still commits at FULL afterwards, whether the lazy one
// committed or failed.
func TestLazyWritesLeaveAppendsDurable(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx := context.Background()
	var inside int
	if err := s.w.doLazy(ctx, func(ctx context.Context, q querier) error {
		return q.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&inside)
	}); err != nil {
		t.Fatal(err)
	}
	if inside != 1 {
		t.Errorf("synchronous inside a lazy transaction = %d, want 1 (NORMAL)", inside)
	}
	if got := synchronousIn(t, s); got != 2 {
		t.Errorf("synchronous after a lazy commit = %d, want 2 (FULL)", got)
	}
	boom := errors.New("boom")
	if err := s.w.doLazy(ctx, func(context.Context, querier) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("failed lazy job: %v, want boom", err)
	}
	if got := synchronousIn(t, s); got != 2 {
		t.Errorf("synchronous after a failed lazy transaction = %d, want 2 (FULL)", got)
	}
	// A lazy write whose setting was not put back (syncLost) is repaired
	// before the next durable commit.
	if err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		_, err := q.ExecContext(ctx, "SELECT 1")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s.w.syncLost = true
	if _, err := s.w.conn.ExecContext(ctx, "PRAGMA synchronous=NORMAL"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, oneEntry("s", "after")); err != nil {
		t.Fatal(err)
	}
	if got := synchronousIn(t, s); got != 2 {
		t.Errorf("synchronous after repairing = %d, want 2 (FULL)", got)
	}
}

// TestWriterPreparesOnce checks that the writer's job queries are
// prepared once and reused, including the cursor move's.
func TestWriterPreparesOnce(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx := context.Background()
	const stream = store.StreamID("org-prepared")
	org := store.Org{ID: "0193a6c2-7b1d-7e55-9c1e-3d2b4f6a8c90", Name: "prepared", CreatedAt: time.Unix(0, 0)}
	if err := s.CreateOrg(ctx, org); err != nil {
		t.Fatal(err)
	}
	if err := s.PutWebhook(ctx, store.Webhook{Stream: stream, OrgID: org.ID, Enabled: true, UpdatedAt: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	for seq := int64(1); seq <= 3; seq++ {
		if err := s.AdvanceCursor(ctx, stream, store.NoFence, seq, nil); err != nil {
			t.Fatalf("AdvanceCursor %d: %v", seq, err)
		}
	}
	before := len(s.w.prepared)
	for seq := int64(4); seq <= 10; seq++ {
		if err := s.AdvanceCursor(ctx, stream, store.NoFence, seq, nil); err != nil {
			t.Fatalf("AdvanceCursor %d: %v", seq, err)
		}
	}
	if after := len(s.w.prepared); after != before {
		t.Errorf("prepared statements grew from %d to %d over repeated cursor moves", before, after)
	}
	st, err := s.GetWebhookState(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	if st.Cursor != 10 {
		t.Errorf("cursor = %d, want 10", st.Cursor)
	}
}

// TestCanceledJobsLeaveTheWriterUsable cancels lazy and durable jobs at
// every moment of their run: none may leave a transaction open or the
// connection at synchronous=NORMAL, so the appends after them commit, and
// at FULL. (A BEGIN whose context ended as it ran used to report failure
// with its transaction open.)
func TestCanceledJobsLeaveTheWriterUsable(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx := context.Background()
	job := func(ctx context.Context, q querier) error {
		var n int
		return q.QueryRowContext(ctx, "SELECT count(*) FROM entries").Scan(&n)
	}
	for i := range 200 {
		jctx, cancel := context.WithTimeout(ctx, time.Duration(i%20)*20*time.Microsecond)
		if i%2 == 0 {
			_ = s.w.doLazy(jctx, job)
		} else {
			_ = s.w.do(jctx, job)
		}
		cancel()
		if _, err := s.Append(ctx, oneEntry("s", "after")); err != nil {
			t.Fatalf("append after canceled job %d: %v", i, err)
		}
	}
	if got := synchronousIn(t, s); got != 2 {
		t.Errorf("synchronous = %d, want 2 (FULL)", got)
	}
}
