// Command ingestfloor measures the least CPU a one-event ingest request can
// cost on this machine with sigtrail's stack and none of sigtrail's code: a
// bare net/http handler that reads the body and answers 202, optionally
// with one fsync'd modernc.org/sqlite insert per request (WAL,
// synchronous=FULL, as sigtrail's store commits). It paces requests like
// `sigtrail bench --batch 1 --rate N` and reports the server process's CPU
// (from /proc, Linux) per request, so a cost-per-event goal can be set
// against what the machine and the libraries allow.
//
//	go run ./cmd/ingestfloor -store sqlite -rate 200 -requests 4000
package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite"

	"github.com/sigtrail/sigtrail/internal/procstat"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ingestfloor:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("ingestfloor", flag.ContinueOnError)
	store := fs.String("store", "sqlite", "what each request does besides HTTP: none, or sqlite (one fsync'd insert)")
	rate := fs.Int("rate", 200, "requests per second")
	requests := fs.Int("requests", 4000, "requests measured, after a warm-up of a tenth as many")
	inFlight := fs.Int("in-flight", 4, "requests at most in flight")
	serve := fs.String("serve", "", "internal: run the server with this data directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *store != "none" && *store != "sqlite" {
		return fmt.Errorf("-store %q: want none or sqlite", *store)
	}
	if *rate <= 0 || *requests <= 0 || *inFlight <= 0 {
		return errors.New("-rate, -requests and -in-flight must be positive")
	}
	if *rate > maxRate {
		return fmt.Errorf("-rate %d: at most %d", *rate, maxRate)
	}
	if *serve != "" {
		return runServer(*store, *serve, os.Stdin, out)
	}
	return measure(*store, *rate, *requests, *inFlight, out)
}

// maxRate keeps the pacing interval far above the ticker's resolution.
const maxRate = 100_000

// measure starts the server as a child process, so its CPU is its own,
// paces the requests and prints the server's CPU per request.
func measure(store string, rate, requests, inFlight int, out io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ingestfloor-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command(self, "-store", store, "-serve", dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe() // closing it stops the server
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	addrc := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		addrc <- line // empty when the child exited first
	}()
	var addr string
	select {
	case addr = <-addrc:
	case <-time.After(30 * time.Second):
	}
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		return errors.New("the server did not start (see its errors above)")
	}
	url := "http://" + strings.TrimSpace(addr) + "/v1/entries"
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: inFlight}, Timeout: 30 * time.Second}
	if err := pace(c, url, rate, max(requests/10, 1), inFlight); err != nil {
		return err
	}
	before, err := procstat.CPUSeconds(cmd.Process.Pid)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := pace(c, url, rate, requests, inFlight); err != nil {
		return err
	}
	took := time.Since(start)
	after, err := procstat.CPUSeconds(cmd.Process.Pid)
	if err != nil {
		return err
	}
	used := after - before
	fmt.Fprintf(out, "store=%s: %d requests at %d/s (%.0f/s achieved) in %.1fs, server CPU %.2fs (%.1f%% of one core), %.3f ms per request\n",
		store, requests, rate, float64(requests)/took.Seconds(), took.Seconds(), used, 100*used/took.Seconds(), 1000*used/float64(requests))
	return nil
}

// event is one NDJSON line of about the size producers send.
var event = []byte(`{"event_type":"authentication","outcome":"success","actor":"ada@example.com","detail":"` +
	strings.Repeat("x", 250) + `"}` + "\n")

// pace sends n requests at rate per second, at most inFlight at once.
func pace(c *http.Client, url string, rate, n, inFlight int) error {
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	slots := make(chan struct{}, inFlight)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for range n {
		<-tick.C
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := post(c, url); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

func post(c *http.Client, url string) error {
	resp, err := c.Post(url, "application/x-ndjson", bytes.NewReader(event))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("POST answered %s", resp.Status)
	}
	return nil
}

// runServer answers POST /v1/entries until stop ends, printing its address
// first.
func runServer(store, dir string, stop io.Reader, out io.Writer) error {
	var db *sql.DB
	if store == "sqlite" {
		var err error
		db, err = sql.Open("sqlite", "file:"+filepath.Join(dir, "floor.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
		if err != nil {
			return err
		}
		defer db.Close()
		db.SetMaxOpenConns(1) // one writer, as in sigtrail's store
		if _, err := db.Exec("CREATE TABLE entries (seq INTEGER PRIMARY KEY, record BLOB NOT NULL)"); err != nil {
			return err
		}
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err == nil && db != nil {
			_, err = db.ExecContext(context.Background(), "INSERT INTO entries (record) VALUES (?)", body)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"accepted":1}`)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	fmt.Fprintln(out, ln.Addr())
	io.Copy(io.Discard, stop)
	return srv.Close()
}
