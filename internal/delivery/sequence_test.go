package delivery

import (
	"context"
	"crypto/ed25519"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/tlog"
)

// ActiveKey names the test key, as the keyring does, so the manager signs
// checkpoint notes.
func (s edSigner) ActiveKey() (ed25519.PublicKey, audit.Signer) {
	return s.key.Public().(ed25519.PublicKey), s
}

// sequenced reads a request's lines: entries' positions and leaves, and
// the checkpoints opened with the test key.
func sequenced(t *testing.T, req request) (pos []audit.Position, leaves [][32]byte, cps []tlog.Checkpoint) {
	t.Helper()
	pub, _ := testSigner().ActiveKey()
	for _, l := range req.lines {
		if err := testVerifier(t).VerifyLine([]byte(l)); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		msg, _, _ := audit.SplitSignature([]byte(l))
		sl, err := audit.ParseSequenced(msg)
		if err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if sl.Checkpoint != nil {
			cp, err := tlog.Open(sl.Checkpoint, []ed25519.PublicKey{pub})
			if err != nil {
				t.Fatal(err)
			}
			cps = append(cps, cp)
			continue
		}
		pos, leaves = append(pos, sl.Position), append(leaves, sl.Leaf)
	}
	return pos, leaves, cps
}

// A destination with sequence numbers gets seq and stream on every line
// and a checkpoint line with the first batch, then again once a minute has
// passed on the (fake) clock, never in between; each checkpoint's root is
// the tree of the lines sent.
func TestSequenceNumbersAndCheckpointLines(t *testing.T) {
	t.Parallel()
	for _, f := range []audit.Format{audit.FormatCEF, audit.FormatJSON, audit.FormatCPS} {
		t.Run(string(f), func(t *testing.T) {
			t.Parallel()
			st := newStore(t)
			dst := newRecorder()
			srv := httptest.NewServer(dst)
			defer srv.Close()
			h := addWebhook(t, st, srv.URL, f)
			h.dest.SequenceNumbers = true
			if err := st.UpdateDestination(context.Background(), h.dest); err != nil {
				t.Fatal(err)
			}
			clk := clock.NewFake(time.Now())
			m := startManager(t, st, managerOpts{clock: clk})
			var all [][32]byte
			step := func(n int, wantCP bool) {
				t.Helper()
				record(t, m, entries(h, len(all)+1, n))
				pos, leaves, cps := sequenced(t, dst.next(t))
				for i, p := range pos {
					if p.Stream != string(h.stream) || p.Seq != int64(len(all)+i+1) {
						t.Fatalf("line %d: position %+v", i, p)
					}
				}
				all = append(all, leaves...)
				if !wantCP {
					if len(cps) != 0 {
						t.Fatalf("a checkpoint line within the minute: %+v", cps)
					}
					return
				}
				if len(cps) != 1 || cps[0].Size != int64(len(all)) || cps[0].Origin != tlog.Origin(string(h.stream)) {
					t.Fatalf("checkpoints %+v, want one of size %d", cps, len(all))
				}
				if tlog.RootsAt(all, []int64{cps[0].Size})[0] != cps[0].Root {
					t.Fatal("the checkpoint's root is not the tree of the lines sent")
				}
			}
			// tail: the stream goes idle with entries no checkpoint covers;
			// a period after the last checkpoint, one comes on its own.
			tail := func() {
				t.Helper()
				waitTimer(t, clk, DefaultCheckpointEvery)
				clk.Advance(DefaultCheckpointEvery)
				req := dst.next(t)
				pos, _, cps := sequenced(t, req)
				if len(pos) != 0 || len(cps) != 1 || cps[0].Size != int64(len(all)) {
					t.Fatalf("tail request: %d entries, checkpoints %+v; want one checkpoint of size %d alone", len(pos), cps, len(all))
				}
				if tlog.RootsAt(all, []int64{cps[0].Size})[0] != cps[0].Root {
					t.Fatal("the tail checkpoint's root is not the tree of the lines sent")
				}
			}
			step(3, true)
			step(2, false)
			tail()
			step(4, false) // within the minute of the tail checkpoint
			tail()
			// Covered: no further checkpoint while the stream stays idle.
			if p := clk.Pending(); slices.Contains(p, DefaultCheckpointEvery) {
				t.Fatalf("a tail checkpoint armed with nothing uncovered: %v", p)
			}
			clk.Advance(DefaultCheckpointEvery)
			step(1, true)
		})
	}
	// Without sequence numbers, lines are as before: no seq, no checkpoint.
	st := newStore(t)
	dst := newRecorder()
	srv := httptest.NewServer(dst)
	defer srv.Close()
	h := addWebhook(t, st, srv.URL, audit.FormatJSON)
	m := startManager(t, st, managerOpts{clock: clock.NewFake(time.Now())})
	record(t, m, entries(h, 1, 2))
	req := dst.next(t)
	if len(req.lines) != 2 {
		t.Fatalf("plain destination got %d lines, want the 2 entries only", len(req.lines))
	}
	for _, l := range req.lines {
		msg, _, _ := audit.SplitSignature([]byte(l))
		if _, err := audit.ParseSequenced(msg); err != audit.ErrNoPosition || strings.Contains(l, `"seq"`) {
			t.Fatalf("plain line carries a position: %s", l)
		}
	}
}
