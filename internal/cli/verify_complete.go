package cli

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/signing"
	"github.com/sigtrail/sigtrail/internal/tlog"
)

// verify --complete: every line's signature is checked as plain verify
// does; then, per stream, the lines' sequence numbers must cover 1..N with
// no gap (N: the highest seq held or stated by a checkpoint), the leaves of
// the lines held must reproduce each checkpoint's root, and each checkpoint
// must be consistent with the one before it (shown by the lines held, or by
// a consistency proof from the server). Duplicates (retries, replays) and
// lines out of order are reported but prove nothing missing.

// maxCompleteSeq bounds the sequence numbers a run holds in memory (32
// bytes each): a stream of 2^31 entries is far beyond any SIEM export.
const maxCompleteSeq = 1 << 31

// completeLine is what a worker found in one line.
type completeLine struct {
	err error // signature or format problem: the line counts as failed
	sl  audit.SequencedLine
	cp  tlog.Checkpoint // when sl.Checkpoint is set, the opened note
}

// where names a line of an input.
type where struct {
	file string
	line int
}

func (w where) String() string { return fmt.Sprintf("%s:%d", w.file, w.line) }

// heldCheckpoint is a checkpoint and where it came from.
type heldCheckpoint struct {
	cp   tlog.Checkpoint
	from string // file:line, or "server"
}

// streamState is what the lines held say about one stream.
type streamState struct {
	id         string
	leaves     [][32]byte // by seq-1
	have       []bool
	where      []where // first line of each seq, for reports
	lines      int
	duplicates int
	outOfOrder int
	firstOOO   string
	maxSeen    int64
	conflicts  []string
	cps        map[int64]heldCheckpoint
}

// completeCheck gathers the lines of every input.
type completeCheck struct {
	keys []ed25519.PublicKey
	// from is the first seq the SIEM is expected to hold (--from): a
	// webhook created on a stream that had entries sends only later ones.
	from      int64
	streams   map[string]*streamState
	order     []string // streams in the order first seen
	verified  int
	failed    int
	unseq     int
	problems  []string // one line each, reported before the summary
	lineFails []string
}

func newCompleteCheck(keys []ed25519.PublicKey) *completeCheck {
	return &completeCheck{keys: keys, from: 1, streams: map[string]*streamState{}}
}

// checkLine is the per-line work, run on the workers: signature, then
// position and leaf hash, or the checkpoint note opened with the keys.
func (c *completeCheck) checkLine(v signing.Verifier) func(line []byte) completeLine {
	return func(line []byte) completeLine {
		if err := v.VerifyLine(line); err != nil {
			return completeLine{err: err}
		}
		msg, _, _ := audit.SplitSignature(line)
		sl, err := audit.ParseSequenced(msg)
		if err != nil {
			return completeLine{err: err}
		}
		out := completeLine{sl: sl}
		if sl.Checkpoint != nil {
			cp, err := tlog.Open(sl.Checkpoint, c.keys)
			if err != nil {
				return completeLine{err: err}
			}
			if _, ok := tlog.StreamOfOrigin(cp.Origin); !ok {
				return completeLine{err: fmt.Errorf("checkpoint origin %q is not a sigtrail stream", cp.Origin)}
			}
			out.cp = cp
		}
		return out
	}
}

func (c *completeCheck) stream(id string) *streamState {
	s, ok := c.streams[id]
	if !ok {
		s = &streamState{id: id, cps: map[int64]heldCheckpoint{}}
		c.streams[id] = s
		c.order = append(c.order, id)
	}
	return s
}

// add takes one line's result, in input order.
func (c *completeCheck) add(at where, r completeLine) {
	switch {
	case errors.Is(r.err, audit.ErrNoPosition):
		c.verified++
		c.unseq++
		return
	case r.err != nil:
		c.failed++
		c.lineFails = append(c.lineFails, fmt.Sprintf("%s: %v", at, r.err))
		return
	}
	c.verified++
	if r.sl.Checkpoint != nil {
		id, _ := tlog.StreamOfOrigin(r.cp.Origin)
		c.addCheckpoint(c.stream(id), heldCheckpoint{cp: r.cp, from: at.String()})
		return
	}
	s := c.stream(r.sl.Stream)
	s.lines++
	seq := r.sl.Seq
	if seq > maxCompleteSeq {
		c.failed++
		c.lineFails = append(c.lineFails, fmt.Sprintf("%s: seq %d is beyond what this check holds", at, seq))
		return
	}
	if seq < s.maxSeen {
		s.outOfOrder++
		if s.firstOOO == "" {
			s.firstOOO = fmt.Sprintf("%s (seq %d after seq %d)", at, seq, s.maxSeen)
		}
	}
	s.maxSeen = max(s.maxSeen, seq)
	i := int(seq - 1)
	if i >= len(s.have) {
		n := max(i+1, 2*len(s.have))
		s.leaves = slices.Grow(s.leaves, n-len(s.leaves))[:n]
		s.have = slices.Grow(s.have, n-len(s.have))[:n]
		s.where = slices.Grow(s.where, n-len(s.where))[:n]
	}
	switch {
	case !s.have[i]:
		s.have[i], s.leaves[i], s.where[i] = true, r.sl.Leaf, at
	case s.leaves[i] == r.sl.Leaf:
		s.duplicates++
	default:
		s.conflicts = append(s.conflicts, fmt.Sprintf("seq %d is held twice with different entries (%s and %s): history rewritten at the source",
			seq, s.where[i], at))
	}
}

func (c *completeCheck) addCheckpoint(s *streamState, h heldCheckpoint) {
	old, ok := s.cps[h.cp.Size]
	if !ok {
		s.cps[h.cp.Size] = h
		return
	}
	if old.cp.Root != h.cp.Root {
		s.conflicts = append(s.conflicts, fmt.Sprintf("two checkpoints of size %d have different roots (%s and %s): history rewritten at the source",
			h.cp.Size, old.from, h.from))
	}
}

// checkpointSource fetches checkpoints and consistency proofs from a
// sigtrail server (verify_server.go); nil without --server.
type checkpointSource interface {
	Latest(ctx context.Context, stream string) (tlog.Checkpoint, error)
	Consistency(ctx context.Context, stream string, from, to int64) ([][32]byte, error)
}

// streamReport is the outcome for one stream.
type streamReport struct {
	ok    bool
	lines []string
}

// finish checks one stream: gaps, roots, consistency.
func (c *completeCheck) finish(ctx context.Context, s *streamState, src checkpointSource) streamReport {
	var rep streamReport
	bad := func(format string, args ...any) {
		rep.lines = append(rep.lines, fmt.Sprintf("stream %s: ", s.id)+fmt.Sprintf(format, args...))
	}
	note := bad // information, not a failure
	failed := len(s.conflicts) > 0
	for _, x := range s.conflicts {
		bad("%s", x)
	}
	if src != nil {
		cp, err := src.Latest(ctx, s.id)
		if err != nil {
			bad("cannot fetch the latest checkpoint: %v", err)
			failed = true
		} else {
			c.addCheckpoint(s, heldCheckpoint{cp: cp, from: "server"})
			if len(s.conflicts) > 0 && !failed {
				failed = true
				bad("%s", s.conflicts[len(s.conflicts)-1])
			}
		}
	}
	sizes := make([]int64, 0, len(s.cps))
	for size := range s.cps {
		sizes = append(sizes, size)
	}
	slices.Sort(sizes)
	end := int64(len(s.have))
	for end > 0 && !s.have[end-1] {
		end--
	}
	if n := len(sizes); n > 0 && sizes[n-1] > end {
		end = sizes[n-1]
	}
	// Gaps: every seq in from..end must be held.
	missing := int64(0)
	for i := c.from - 1; i < end; {
		if i < int64(len(s.have)) && s.have[i] {
			i++
			continue
		}
		j := i
		for j < end && (j >= int64(len(s.have)) || !s.have[j]) {
			j++
		}
		missing += j - i
		what := "missing seq"
		if j == end && i >= s.maxSeen { // past every line held
			what = "missing tail: seq"
		}
		if i+1 == j {
			bad("%s %d", what, i+1)
		} else {
			bad("%s %d-%d (%d lines)", what, i+1, j, j-i)
		}
		i = j
	}
	if missing > 0 {
		failed = true
	}
	if s.outOfOrder > 0 {
		note("%d lines out of order, the first at %s", s.outOfOrder, s.firstOOO)
	}
	// Roots: reproduce every checkpoint whose leaves are all held.
	held := int64(0)
	for held < int64(len(s.have)) && s.have[held] {
		held++
	}
	var reproducible []int64
	for _, size := range sizes {
		if size <= held {
			reproducible = append(reproducible, size)
		}
	}
	roots := tlog.RootsAt(s.leaves[:held], reproducible)
	matches := map[int64]bool{}
	for i, size := range reproducible {
		matches[size] = roots[i] == s.cps[size].cp.Root
		if !matches[size] {
			failed = true
			bad("the lines held do not reproduce the root of checkpoint %d (%s)", size, s.cps[size].from)
		}
	}
	// Consistency of each checkpoint with the one before.
	for i := 1; i < len(sizes); i++ {
		a, b := s.cps[sizes[i-1]], s.cps[sizes[i]]
		switch {
		case src != nil:
			proof, err := src.Consistency(ctx, s.id, a.cp.Size, b.cp.Size)
			if err == nil {
				err = tlog.VerifyConsistency(a.cp.Size, b.cp.Size, proof, a.cp.Root, b.cp.Root)
			}
			if err != nil {
				failed = true
				bad("checkpoint %d (%s) is not consistent with checkpoint %d (%s): %v", b.cp.Size, b.from, a.cp.Size, a.from, err)
			}
		case matches[a.cp.Size] && b.cp.Size <= held && !matches[b.cp.Size]:
			failed = true
			bad("checkpoint %d (%s) is not consistent with checkpoint %d (%s), which the lines reproduce: history rewritten at the source",
				b.cp.Size, b.from, a.cp.Size, a.from)
		case b.cp.Size > held && held == 0 && c.from > 1:
			note("consistency of checkpoints %d and %d not shown: lines before seq %d are not held (use --server to fetch the proof)", a.cp.Size, b.cp.Size, c.from)
		case b.cp.Size > held:
			note("consistency of checkpoints %d and %d not shown: lines are missing (use --server to fetch the proof)", a.cp.Size, b.cp.Size)
		}
	}
	latest := "no checkpoint"
	if n := len(sizes); n > 0 {
		size := sizes[n-1]
		switch {
		case matches[size]:
			latest = fmt.Sprintf("latest checkpoint %d reproduced", size)
		case size > held && c.from > 1:
			latest = fmt.Sprintf("latest checkpoint %d not reproduced (lines before seq %d not held)", size, c.from)
		case size > held:
			latest = fmt.Sprintf("latest checkpoint %d not reproduced (lines missing)", size)
		default:
			latest = fmt.Sprintf("latest checkpoint %d NOT reproduced", size)
		}
	} else {
		failed = true
		bad("no checkpoint held: the tail cannot be shown complete (wait for the next checkpoint line or use --server)")
	}
	status := "complete"
	if failed {
		status = "INCOMPLETE"
	}
	summary := fmt.Sprintf("stream %s: %s: %d lines verified, %d missing, %d duplicates, %d out of order, %d checkpoints, %s",
		s.id, status, s.lines, missing, s.duplicates, s.outOfOrder, len(sizes), latest)
	rep.lines = append(rep.lines, summary)
	rep.ok = !failed
	return rep
}

// report writes every problem and each stream's summary and says whether
// everything held is proven complete.
func (c *completeCheck) report(ctx context.Context, out io.Writer, src checkpointSource) (bool, error) {
	ok := c.failed == 0
	for _, l := range c.lineFails {
		if _, err := fmt.Fprintln(out, l); err != nil {
			return false, err
		}
	}
	for _, id := range c.order {
		rep := c.finish(ctx, c.streams[id], src)
		ok = ok && rep.ok
		if _, err := fmt.Fprintln(out, strings.Join(rep.lines, "\n")); err != nil {
			return false, err
		}
	}
	if len(c.order) == 0 {
		ok = false
	}
	verdict := "complete"
	if !ok {
		verdict = "NOT proven complete"
	}
	_, err := fmt.Fprintf(out, "%d verified, %d failed, %d without seq, %d streams: %s\n", c.verified, c.failed, c.unseq, len(c.order), verdict)
	return ok, err
}

// runVerifyComplete is verify --complete.
func runVerifyComplete(ctx context.Context, env *Env, files []string, v signing.Verifier, workers int,
	server, token string, timeout time.Duration, from int64) error {
	c := newCompleteCheck(v.PublicKeys())
	c.from = from
	work := c.checkLine(v)
	err := eachInput(env, files, func(name string, r io.Reader) error {
		return orderedLines(ctx, r, workers, work, func(n int, res completeLine) error {
			c.add(where{name, n}, res)
			return nil
		})
	})
	if err != nil && !errors.Is(err, errFailed) {
		return err
	}
	var src checkpointSource
	if server != "" {
		src = &treeClient{base: strings.TrimRight(server, "/"), token: token,
			http: &http.Client{Timeout: timeout}, keys: v.PublicKeys(), paths: map[string]string{}}
	}
	out := bufio.NewWriterSize(env.Stdout, 64<<10)
	ok, rerr := c.report(ctx, out, src)
	if ferr := out.Flush(); rerr == nil {
		rerr = ferr
	}
	if rerr != nil {
		return rerr
	}
	if err != nil || !ok {
		return errFailed
	}
	return nil
}
