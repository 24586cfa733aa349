package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sigtrail/sigtrail/internal/sink"
)

// benchOpts are the flags of sigtrail bench.
type benchOpts struct {
	server, token, adminToken string
	serverPID                 int
	inProcess                 bool
	entries, batch, conc      int
	rate                      float64
	format                    string
	verifyEvery               int
	dead                      bool
	timeout                   time.Duration
	dataDir                   string
	cpuProfile                string
}

// runBench pushes entries through the ingest API of a server to a sink on
// 127.0.0.1 and reports throughput, ingest-to-receipt latency, and the
// server's CPU and peak RSS.
func runBench(ctx context.Context, env *Env, args []string) error {
	var o benchOpts
	fs := newFlagSet("bench", env.Stderr)
	fs.StringVar(&o.server, "server", "", "target this server's `URL` instead of starting one (needs --token and --admin-token)")
	fs.StringVar(&o.token, "token", "", "producer token for --server")
	fs.StringVar(&o.adminToken, "admin-token", "", "org admin token for --server, to point the org webhook at the sink")
	fs.IntVar(&o.serverPID, "server-pid", 0, "with --server: process id whose CPU and RSS to report")
	fs.BoolVar(&o.inProcess, "in-process", false, "run the server inside this process instead of as a child process")
	fs.IntVar(&o.entries, "entries", 100000, "entries to push")
	fs.IntVar(&o.batch, "batch", 1000, "entries per ingest request")
	fs.IntVar(&o.conc, "concurrency", 4, "ingest requests in flight")
	fs.Float64Var(&o.rate, "rate", 0, "entries per second (0: flat out)")
	fs.StringVar(&o.format, "format", "cef", "log format the webhook asks for: cef, json or cps")
	fs.IntVar(&o.verifyEvery, "verify-every", 100, "the sink checks the signature of one line in `N` (1: all)")
	fs.BoolVar(&o.dead, "dead", false, "keep the destination down (503) until every entry is ingested, then bring it back and time the drain")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Minute, "give up waiting for deliveries after this long")
	fs.StringVar(&o.dataDir, "data-dir", "", "data dir of the started server (default: a temporary one, removed after)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of this process to `FILE` (with --in-process it covers the server)")
	if err := parseFlags(fs, args, env.Getenv); err != nil {
		return flagUsage(env, fs, "bench", err)
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.entries <= 0 || o.batch <= 0 || o.conc <= 0 || o.rate < 0 || o.verifyEvery <= 0:
		return errors.New("--entries, --batch, --concurrency and --verify-every must be positive, --rate not negative")
	case o.server != "" && (o.token == "" || o.adminToken == ""):
		return errors.New("--server needs --token (producer) and --admin-token (org admin)")
	}
	switch o.format {
	case "cef", "json", "cps":
	default:
		return fmt.Errorf("--format %q is not cef, json or cps", o.format)
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	return bench(ctx, env, o)
}

func bench(ctx context.Context, env *Env, o benchOpts) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.conc + 2}, Timeout: 2 * time.Minute}
	defer client.CloseIdleConnections()

	pid := o.serverPID
	if o.server == "" {
		srv, err := startBenchServer(ctx, env, o)
		if err != nil {
			return err
		}
		defer srv.stop()
		o.server, o.token, o.adminToken, pid = srv.url, srv.producer, srv.admin, srv.pid
	}
	o.server = strings.TrimRight(o.server, "/")

	// The sink runs in this process, so its CPU is not the server's.
	keys, err := sink.NewKeySet(ctx, o.server+"/v2/audit-log-webhook/jwks.json", parseJWKS, client, nil)
	if err != nil {
		return err
	}
	sk, err := sink.New(sink.Config{Keys: keys, VerifyEvery: o.verifyEvery, Match: []byte("bench-")})
	if err != nil {
		return err
	}
	var dead atomic.Bool
	dead.Store(o.dead)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sinkDone := make(chan error, 1)
	go func() {
		sinkDone <- serveUntilDone(ctx, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if dead.Load() && r.Method == http.MethodPost {
				_, _ = io.Copy(io.Discard, r.Body)
				http.Error(w, "down for the benchmark", http.StatusServiceUnavailable)
				return
			}
			sk.ServeHTTP(w, r)
		}))
	}()
	defer func() { cancel(); <-sinkDone }()
	sinkURL := "http://" + ln.Addr().String() + "/hook"
	if err := benchWebhook(ctx, client, o, sinkURL); err != nil {
		return err
	}
	// The server audits its own API calls into the same org log; the sink
	// counts only the bench's entries (trace ids bench-N).
	cpu0, _ := procCPU(pid)
	start := time.Now()
	if err := benchIngest(ctx, client, o); err != nil {
		return err
	}
	ingested := time.Since(start)
	drainFrom := time.Now()
	if o.dead {
		fmt.Fprintf(env.Stdout, "ingested %d entries in %.1fs with the destination down; peak RSS so far %s\n",
			o.entries, ingested.Seconds(), procPeakRSS(pid))
		dead.Store(false)
	}
	deadline := time.Now().Add(o.timeout)
	for sk.Stats().Lines < int64(o.entries) {
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d entries delivered after %v", sk.Stats().Lines, o.entries, o.timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	st := sk.Stats()
	wall := st.LastReceipt.Sub(start)
	cpu1, _ := procCPU(pid)
	w := env.Stdout
	fmt.Fprintf(w, "entries:    %d (%s, batches of %d, %d in flight, rate %s)\n", o.entries, o.format, o.batch, o.conc, rateText(o.rate))
	fmt.Fprintf(w, "ingest:     %.1fs, %.0f entries/s accepted (durable)\n", ingested.Seconds(), float64(o.entries)/ingested.Seconds())
	fmt.Fprintf(w, "delivered:  %d lines in %d requests, %.1fs from the first ingest, %.0f entries/s end to end\n",
		st.Lines, st.Requests, wall.Seconds(), float64(st.Lines)/wall.Seconds())
	fmt.Fprintf(w, "bytes:      %.1f MB of lines, %.1f MB gzipped on the wire (%.1fx)\n",
		float64(st.Bytes)/1e6, float64(st.WireBytes)/1e6, float64(st.Bytes)/max(float64(st.WireBytes), 1))
	if o.dead {
		fmt.Fprintf(w, "drain:      %.1fs after the destination came back\n", st.LastReceipt.Sub(drainFrom).Seconds())
	}
	if l := st.LatencyMS; l != nil {
		fmt.Fprintf(w, "latency:    ingest to receipt p50 %d ms, p99 %d ms, max %d ms (%d lines)\n", l.P50, l.P99, l.Max, l.Count)
	}
	fmt.Fprintf(w, "signatures: %d verified, %d failed (one line in %d checked)\n", st.Verified, st.Failed, o.verifyEvery)
	if pid > 0 {
		fmt.Fprintf(w, "server:     pid %d, CPU %.1fs (%.0f%% of one core over the run), peak RSS %s\n",
			pid, cpu1-cpu0, 100*(cpu1-cpu0)/wall.Seconds(), procPeakRSS(pid))
	}
	if st.Failed > 0 {
		return fmt.Errorf("%d signatures failed to verify: %s", st.Failed, st.LastFailure)
	}
	return nil
}

func rateText(r float64) string {
	if r == 0 {
		return "flat out"
	}
	return fmt.Sprintf("%.0f/s", r)
}

// benchWebhook points the org webhook at the sink.
func benchWebhook(ctx context.Context, client *http.Client, o benchOpts, sinkURL string) error {
	body, _ := json.Marshal(map[string]any{
		"endpoint": sinkURL, "authorization": "Bearer bench", "enabled": true, "log_format": o.format,
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, o.server+"/v2/audit-log-webhook", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+o.adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("configuring the webhook: %d %s", resp.StatusCode, oneLine(string(b)))
	}
	return nil
}

// benchIngest posts the entries, --batch per request, --concurrency at a
// time, paced to --rate when set.
func benchIngest(ctx context.Context, client *http.Client, o benchOpts) error {
	reqs := (o.entries + o.batch - 1) / o.batch
	jobs := make(chan int)
	var firstErr error
	var errOnce sync.Once
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fail := func(err error) { errOnce.Do(func() { firstErr = err; cancel() }) }
	var wg sync.WaitGroup
	for range o.conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := range jobs {
				n := min(o.batch, o.entries-i*o.batch)
				buf = benchLines(buf[:0], i*o.batch, n)
				if err := benchPost(ctx, client, o, buf); err != nil {
					fail(err)
					return
				}
			}
		}()
	}
	var tick *time.Ticker
	if o.rate > 0 {
		tick = time.NewTicker(time.Duration(float64(time.Second) * float64(o.batch) / o.rate))
		defer tick.Stop()
	}
feed:
	for i := range reqs {
		if tick != nil && i > 0 {
			select {
			case <-ctx.Done():
				break feed
			case <-tick.C:
			}
		}
		select {
		case <-ctx.Done():
			break feed
		case jobs <- i:
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// benchLines appends n ingest lines; rt is the moment of sending, so the
// sink measures from ingest to receipt.
func benchLines(dst []byte, from, n int) []byte {
	rt := time.Now().UnixMilli()
	for i := range n {
		dst = append(dst, `{"event_class_id":"AUTHENTICATION_TYPE_BASIC","name":"AUTHENTICATION_OUTCOME_SUCCESS","request":"/login","success":true,"src":"203.0.113.7","principal_id":"0193a6c2-7b1d-7e55-9c1e-3d2b4f6a8c90","user_agent":"sigtrail-bench/1","trace_id":"bench-`...)
		dst = strconv.AppendInt(dst, int64(from+i), 10)
		dst = append(dst, `","rt":`...)
		dst = strconv.AppendInt(dst, rt, 10)
		dst = append(dst, "}\n"...)
	}
	return dst
}

func benchPost(ctx context.Context, client *http.Client, o benchOpts, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.server+"/v1/entries", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+o.token)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return fmt.Errorf("ingest answered %d: %s", resp.StatusCode, oneLine(string(b)))
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return nil
}

// benchServer is a server the bench started.
type benchServer struct {
	url, admin, producer string
	pid                  int
	stop                 func()
}

// startBenchServer starts `sigtrail serve` on 127.0.0.1 with a fresh data
// dir and a bootstrap token, and makes a producer token for it.
func startBenchServer(ctx context.Context, env *Env, o benchOpts) (*benchServer, error) {
	dir := o.dataDir
	cleanup := func() {}
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "sigtrail-bench-"); err != nil {
			return nil, err
		}
		cleanup = func() { os.RemoveAll(dir) }
	}
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	admin := "bench-admin-" + hex.EncodeToString(secret)
	args := []string{"serve", "--data-dir", dir, "--addr", "127.0.0.1:0", "--portal-addr", "127.0.0.1:0",
		"--insecure-destinations", "--log-level", "warn"}
	getenv := func(k string) string {
		if k == "SIGTRAIL_BOOTSTRAP_TOKEN" {
			return admin
		}
		return env.Getenv(k)
	}
	out := &lockedBuffer{}
	s := &benchServer{admin: admin}
	sctx, scancel := context.WithCancel(ctx)
	var done chan struct{}
	if o.inProcess {
		done = make(chan struct{})
		go func() {
			defer close(done)
			Run(sctx, args, getenv, strings.NewReader(""), out, env.Stderr)
		}()
		s.pid = os.Getpid()
	} else {
		exe, err := os.Executable()
		if err != nil {
			scancel()
			cleanup()
			return nil, err
		}
		cmd := exec.CommandContext(sctx, exe, args...)
		cmd.Env = append(os.Environ(), "SIGTRAIL_BOOTSTRAP_TOKEN="+admin)
		cmd.Stdout, cmd.Stderr = out, env.Stderr
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
		cmd.WaitDelay = 10 * time.Second
		if err := cmd.Start(); err != nil {
			scancel()
			cleanup()
			return nil, err
		}
		s.pid = cmd.Process.Pid
		done = make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
	}
	s.stop = func() { scancel(); <-done; cleanup() }
	apiURL := regexp.MustCompile(`management API on (http://[0-9.]+:\d+)`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := apiURL.FindStringSubmatch(out.String()); m != nil {
			s.url = m[1]
			break
		}
		select {
		case <-done:
			s.stop()
			return nil, errors.New("the server exited before it served")
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, errors.New("the server did not start within 30s")
		}
	}
	tok, tokErr := &lockedBuffer{}, &lockedBuffer{}
	if code := Run(ctx, []string{"token", "create", "--org", "default", "--role", "producer", "--name", "bench", "--data-dir", dir},
		env.Getenv, strings.NewReader(""), tok, tokErr); code != 0 {
		s.stop()
		return nil, fmt.Errorf("creating the producer token failed: %s", oneLine(tokErr.String()))
	}
	s.producer = strings.TrimSpace(tok.String())
	return s, nil
}

// lockedBuffer is an io.Writer that a child process or goroutine writes
// while the bench reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// procCPU returns the user+system CPU seconds of pid from /proc.
func procCPU(pid int) (float64, error) {
	if pid <= 0 {
		return 0, errors.New("no pid")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; fields start after its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unreadable /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / clockTicks, nil
}

// procPeakRSS returns VmHWM, the peak resident set size, of pid.
func procPeakRSS(pid int) string {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				return strings.TrimSpace(v)
			}
			return fmt.Sprintf("%.1f MB", float64(kb)/1024)
		}
	}
	return "unknown"
}
