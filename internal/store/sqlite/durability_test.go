package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/sigtrail/sigtrail/internal/store"
)

// crashChildEnv, when set to a database path, turns TestCrashChild into
// the appender that TestDurabilityAfterSIGKILL kills.
const crashChildEnv = "SIGTRAIL_SQLITE_CRASH_CHILD_DB"

// TestDurabilityAfterSIGKILL runs a child process that appends from several
// goroutines and reports every acknowledged append on stdout, kills it
// with SIGKILL mid-stream, reopens the database and checks that every
// acknowledged entry is there, in place, with dense sequence numbers.
func TestDurabilityAfterSIGKILL(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const killAfter = 2000
	acked := map[store.StreamID]map[int64]string{}
	r := bufio.NewReader(out)
	n := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			break // EOF; a partial last line was never fully acknowledged
		}
		f := strings.Fields(line)
		if len(f) != 4 || f[0] != "ack" {
			continue
		}
		seq, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			t.Fatalf("bad ack line %q", line)
		}
		st := store.StreamID(f[1])
		if acked[st] == nil {
			acked[st] = map[int64]string{}
		}
		acked[st][seq] = f[3]
		n++
		if n == killAfter {
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
		}
	}
	err = cmd.Wait()
	if n < killAfter {
		t.Fatalf("child stopped after %d acks (%v): %s", n, err, stderr.String())
	}
	if err == nil {
		t.Fatal("child exited normally; it should have been killed")
	}

	ctx := context.Background()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("reopen after SIGKILL: %v", err)
	}
	defer s.Close()
	for st, want := range acked {
		got, err := s.Read(ctx, st, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		last, err := s.LastSeq(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(got)) != last {
			t.Fatalf("%s: %d entries but LastSeq %d", st, len(got), last)
		}
		for i, e := range got {
			if e.Seq != int64(i+1) {
				t.Fatalf("%s: entry %d has seq %d: a gap", st, i, e.Seq)
			}
		}
		for seq, trace := range want {
			if seq > last || got[seq-1].Entry.TraceID != trace {
				t.Fatalf("%s/%d was acknowledged as %q but is lost (last seq %d)", st, seq, trace, last)
			}
		}
	}
	t.Logf("%d acknowledged appends survived SIGKILL", n)
}

// TestCrashChild is the child half of TestDurabilityAfterSIGKILL; run
// alone it does nothing.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("only runs as the child of TestDurabilityAfterSIGKILL")
	}
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ { // until killed
				st := store.StreamID(fmt.Sprintf("stream-%d", (g+i)%3))
				in := oneEntry(st, fmt.Sprintf("g%d-i%d", g, i))
				seqs, err := s.Append(context.Background(), in)
				if err != nil {
					fmt.Fprintln(os.Stderr, "append:", err)
					os.Exit(2)
				}
				// Only now, with Append returned, is the entry acknowledged.
				mu.Lock()
				fmt.Fprintf(w, "ack %s %d %s\n", st, seqs[0], in[0].Entry.TraceID)
				err = w.Flush()
				mu.Unlock()
				if err != nil { // the parent stopped reading
					os.Exit(0)
				}
			}
		}()
	}
	wg.Wait()
}
