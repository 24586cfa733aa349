package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
)

func oneEntry(stream store.StreamID, trace string) []store.NewEntry {
	return []store.NewEntry{{Stream: stream, Entry: audit.Entry{
		Kind: audit.KindAccess, Time: time.UnixMilli(1_764_000_000_000).UTC(), TraceID: trace,
	}}}
}

// TestGroupCommitSharesCommits checks that appends queued while the writer
// is busy commit together, that a caller fewer than the previous commit
// served is waited for (up to GroupCommitMaxWait), and that a lone caller
// after a lone caller is not.
func TestGroupCommitSharesCommits(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Unix(0, 0))
	s := openTest(t, Options{GroupCommitMaxBatch: 100, GroupCommitMaxWait: time.Second, Clock: fake})
	ctx := context.Background()
	appendAsync := func(trace string) <-chan error {
		done := make(chan error, 1)
		go func() {
			_, err := s.Append(ctx, oneEntry("s", trace))
			done <- err
		}()
		return done
	}
	wait := func(chs ...<-chan error) {
		t.Helper()
		for _, ch := range chs {
			if err := <-ch; err != nil {
				t.Fatalf("Append: %v", err)
			}
		}
	}
	before := s.w.commits.Load()

	// Hold the writer in a job while three appends queue behind it.
	release := make(chan struct{})
	held := make(chan struct{})
	jobDone := make(chan error, 1)
	go func() {
		jobDone <- s.w.do(ctx, func(context.Context, querier) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	a, b, c := appendAsync("a"), appendAsync("b"), appendAsync("c")
	for len(s.w.reqs) < 3 {
		runtime.Gosched()
	}
	close(release)
	if err := <-jobDone; err != nil {
		t.Fatal(err)
	}
	wait(a, b, c)
	if got := s.w.commits.Load() - before; got != 1 {
		t.Fatalf("three queued appends took %d commits, want 1", got)
	}

	// One caller after three: the writer waits for company, then commits.
	waiting := fake.TimerCreated()
	d := appendAsync("d")
	<-waiting
	fake.Advance(time.Second)
	wait(d)

	// One caller after one: no wait, no clock needed.
	wait(appendAsync("e"))
	if got := s.w.commits.Load() - before; got != 3 {
		t.Fatalf("commits = %d, want 3", got)
	}
	got, err := s.Read(ctx, "s", 0, 0)
	if err != nil || len(got) != 5 {
		t.Fatalf("Read = %d entries, %v; want 5", len(got), err)
	}
}

// TestNonAppendWritesInterleave checks that other writes queued behind
// appends run on the same writer without errors and in order.
func TestNonAppendWritesInterleave(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx := context.Background()
	errs := make(chan error, 200)
	for i := range 100 {
		go func() {
			_, err := s.Append(ctx, oneEntry("s", fmt.Sprint(i)))
			errs <- err
		}()
		go func() {
			errs <- s.CreateOrg(ctx, store.Org{ID: fmt.Sprintf("org-%03d", i), Name: fmt.Sprintf("name-%03d", i)})
		}()
	}
	for range 200 {
		if err := <-errs; err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	orgs, err := s.ListOrgs(ctx)
	if err != nil || len(orgs) != 100 {
		t.Fatalf("ListOrgs = %d, %v", len(orgs), err)
	}
	if last, _ := s.LastSeq(ctx, "s"); last != 100 {
		t.Fatalf("LastSeq = %d, want 100", last)
	}
}

func TestClosedStoreRefusesWrites(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx := context.Background()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.Append(ctx, oneEntry("s", "x")); !apperr.Is(err, apperr.Unavailable) {
		t.Errorf("Append after Close: %v, want unavailable", err)
	}
	if err := s.CreateOrg(ctx, store.Org{ID: "o", Name: "o"}); !apperr.Is(err, apperr.Unavailable) {
		t.Errorf("CreateOrg after Close: %v, want unavailable", err)
	}
	// Close is idempotent (openTest's cleanup closes again).
}

func TestCancelledAppendIsNotWaitedFor(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Append(ctx, oneEntry("s", "x")); err == nil {
		t.Fatal("Append with a cancelled context succeeded")
	}
	if last, _ := s.LastSeq(context.Background(), "s"); last != 0 {
		t.Fatalf("a cancelled append was stored: LastSeq %d", last)
	}
}

func TestAppendRefusesUnknownKind(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	in := oneEntry("s", "x")
	in[0].Entry.Kind = 9
	if _, err := s.Append(context.Background(), in); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("Append of kind 9: %v, want invalid", err)
	}
}

// TestTwoWritersOnOneFile checks that a second process appending to the
// same file (here a second Store) does not break the first: its cached
// positions go stale, the writer sees another connection committed (the
// file's data_version moved) and reads them again.
func TestTwoWritersOnOneFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "shared.db")
	ctx := context.Background()
	a, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	steps := []struct {
		s    *Store
		want int64
	}{{a, 1}, {a, 2}, {b, 3}, {a, 4}, {b, 5}, {b, 6}, {a, 7}}
	for i, st := range steps {
		seqs, err := st.s.Append(ctx, oneEntry("s", fmt.Sprint(i)))
		if err != nil {
			t.Fatalf("step %d: Append: %v", i, err)
		}
		if seqs[0] != st.want {
			t.Fatalf("step %d: seq %d, want %d", i, seqs[0], st.want)
		}
	}
	got, err := a.Read(ctx, "s", 0, 0)
	if err != nil || len(got) != len(steps) {
		t.Fatalf("Read = %d entries, %v", len(got), err)
	}
	for i, e := range got {
		if e.Entry.TraceID != fmt.Sprint(i) {
			t.Fatalf("seq %d holds %q, want %q", e.Seq, e.Entry.TraceID, fmt.Sprint(i))
		}
	}
}

// TestDeletePortalInSteps deletes a portal whose log needs several steps
// and checks nothing of its stream is left, while other streams keep theirs.
func TestDeletePortalInSteps(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.CreateOrg(ctx, store.Org{ID: "org", Name: "org"}))
	must(s.CreatePortal(ctx, store.Portal{ID: "portal", OrgID: "org", Name: "p", DefaultDomain: "p.example"}))
	n := 2*portalDeleteChunk + 5
	in := make([]store.NewEntry, n)
	for i := range in {
		in[i] = oneEntry("portal", fmt.Sprint(i))[0]
		in[i].Entry.Time = time.UnixMilli(1_764_000_000_000 + int64(i)*60_000).UTC() // many hours
	}
	_, err := s.Append(ctx, in)
	must(err)
	_, err = s.Append(ctx, oneEntry("org", "keep"))
	must(err)

	must(s.DeletePortal(ctx, "org", "portal"))
	var left int
	must(s.rdb.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM entries) + (SELECT COUNT(*) FROM streams WHERE stream = 'portal')
		+ (SELECT COUNT(*) FROM stream_hours WHERE sid NOT IN (SELECT sid FROM streams))`).Scan(&left))
	if left != 1 { // the org's entry
		t.Fatalf("%d rows left, want only the org's entry", left)
	}
	if got, _ := s.Read(ctx, "org", 0, 0); len(got) != 1 {
		t.Fatalf("the org's stream lost its entry")
	}
}
