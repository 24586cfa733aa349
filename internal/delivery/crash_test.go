package delivery

import (
	"bufio"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlite"
)

const childEnv = "SIGTRAIL_DELIVERY_TEST_CHILD"

// runChild appends entries to the stream named in its environment and
// delivers them, printing the count of durable entries after each append,
// until it is killed.
func runChild() {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, os.Getenv(childEnv), sqlite.Options{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	m, err := New(Config{InsecureDestinations: true, MaxBatchLines: 100},
		Deps{Store: st, Signer: testSigner(), Registerer: prometheus.NewRegistry()})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	go func() { _ = m.Run(ctx) }()
	h := hook{stream: store.StreamID(os.Getenv("SIGTRAIL_CHILD_STREAM")), org: os.Getenv("SIGTRAIL_CHILD_STREAM")}
	per := 20
	if os.Getenv("SIGTRAIL_CHILD_TRICKLE") != "" {
		// One entry per append, as producers of one event per request
		// send: batches are small, so cursor moves are deferred.
		per = 1
	}
	for n := 0; ; n += per {
		if _, err := m.Record(ctx, entries(h, n+1, per)); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("appended", n+per)
	}
}

// kill -9 in the middle of a load, then a restart on the same database:
// every entry appended before the crash is delivered, and duplicates are
// at most the batch that was in flight.
func TestCrashRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	t.Parallel()
	if dups := crashRestart(t, false); dups > 100 {
		t.Fatalf("%d duplicates, more than the one batch in flight", dups)
	}
}

// The same with one entry per append: delivered batches are small, so
// their cursor moves ride later transactions (sqlite/cursors.go). A kill
// -9 may then re-send what was delivered since the last transaction that
// carried one, but loses nothing.
func TestCrashRestartWhileEntriesTrickle(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	t.Parallel()
	crashRestart(t, true)
}

// crashRestart kills a child process that appends and delivers, restarts
// delivery on its database, checks that every acknowledged entry is
// delivered, and returns the duplicates.
func crashRestart(t *testing.T, trickle bool) int {
	t.Helper()
	db := filepath.Join(t.TempDir(), "db")
	dst := newRecorder()
	srv := httptest.NewServer(dst)
	defer srv.Close()

	st, err := sqlite.Open(context.Background(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := addWebhook(t, st, srv.URL, audit.FormatCEF)
	st.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+db, "SIGTRAIL_CHILD_STREAM="+string(h.stream))
	if trickle {
		cmd.Env = append(cmd.Env, "SIGTRAIL_CHILD_TRICKLE=1")
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	durable := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == "appended" {
			durable, _ = strconv.Atoi(f[1])
		} else {
			t.Fatalf("child: %s", sc.Text())
		}
		// Kill once deliveries are under way (and, in bulk, the log holds
		// a backlog).
		if (durable >= 3000 || trickle && durable >= 300) && len(dst.arrived) >= 3 {
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	dst.mu.Lock()
	before := 0
	for _, r := range dst.requests {
		before += len(r.lines)
	}
	dst.mu.Unlock()

	st2 := openStore(t, db)
	last, err := st2.LastSeq(context.Background(), h.stream)
	if err != nil {
		t.Fatal(err)
	}
	if last < int64(durable) {
		t.Fatalf("the log holds %d entries, but %d were acknowledged", last, durable)
	}
	startManager(t, st2, managerOpts{cfg: Config{MaxBatchLines: 100}})
	seen := map[string]int{}
	v := testVerifier(t)
	for len(seen) < int(last) {
		for _, id := range traceIDs(t, v, dst.next(t).lines) {
			seen[id]++
		}
	}
	dups := 0
	for i := 1; i <= int(last); i++ {
		c, ok := seen[fmt.Sprint("t", i)]
		if !ok {
			t.Fatalf("entry %d of %d never delivered", i, last)
		}
		dups += c - 1
	}
	t.Logf("killed after %d acknowledged entries (%d in the log), %d lines delivered before the crash, %d duplicates",
		durable, last, before, dups)
	return dups
}

// Run returns only when every dispatcher, retry wait and request has
// stopped: nothing is left running.
func TestShutdownLeavesNoGoroutines(t *testing.T) {
	st := newStore(t)
	dst := newRecorder()
	srv := httptest.NewServer(dst)
	defer srv.Close()
	var hooks []hook
	for range 5 {
		hooks = append(hooks, addWebhook(t, st, srv.URL, audit.FormatCEF))
	}
	ignore := goleak.IgnoreCurrent()
	m, err := New(Config{InsecureDestinations: true}, Deps{Store: st, Signer: testSigner()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	waitRunning(t, m)
	for _, h := range hooks {
		record(t, m, entries(h, 1, 10))
	}
	for range hooks {
		dst.next(t)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	goleak.VerifyNone(t, ignore)
}
