package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	sequenceNumbers           bool
	verifyEvery               int
	dead                      bool
	timeout                   time.Duration
	dataDir                   string
	cpuProfile                string
	serverCPUProfile          string // CPU profile of each started server
	db                        string // database of the started servers
	replicas                  int    // servers started on db
	addr, portalAddr          string // listen addresses of a started server
	sinkAddr                  string // listen address of the sink
	progressEvery             time.Duration
	signFor                   time.Duration // how long to measure the raw signing rate first
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
	fs.BoolVar(&o.sequenceNumbers, "sequence-numbers", false, "the destination asks for sequence numbers (seq and stream on every line, checkpoint lines)")
	fs.IntVar(&o.verifyEvery, "verify-every", 100, "the sink checks the signature of one line in `N` (1: all)")
	fs.BoolVar(&o.dead, "dead", false, "keep the destination down (503) until every entry is ingested, then bring it back and time the drain")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Minute, "give up waiting for deliveries after this long")
	fs.StringVar(&o.dataDir, "data-dir", "", "data dir of the started server (default: a temporary one, removed after)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of this process to `FILE` (with --in-process it covers the server)")
	fs.StringVar(&o.serverCPUProfile, "server-cpuprofile", "", "write a CPU profile of each started server process to `FILE` (FILE.N for replica N above 1)")
	fs.StringVar(&o.db, "db", "", "database `URL` of the started servers (default: SQLite in their data dir; postgres://... for PostgreSQL)")
	fs.IntVar(&o.replicas, "replicas", 1, "servers to start on --db (more than one needs PostgreSQL); ingest goes to those that do not deliver the webhook")
	fs.StringVar(&o.addr, "addr", "", "management API listen `HOST:PORT` of the started server (default 127.0.0.1:0; one replica only)")
	fs.StringVar(&o.portalAddr, "portal-addr", "", "Dev Portal listen `HOST:PORT` of the started server (default 127.0.0.1:0; one replica only)")
	fs.StringVar(&o.sinkAddr, "sink-addr", "127.0.0.1:0", "listen `HOST:PORT` of the sink")
	fs.DurationVar(&o.signFor, "sign-for", 2*time.Second, "measure this machine's raw Ed25519 signing rate this long before and after the run, and compare end to end with the faster (0: skip)")
	fs.DurationVar(&o.progressEvery, "progress", 5*time.Second, "print progress this often (0: only the summary)")
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
	case o.replicas < 1:
		return errors.New("--replicas must be at least 1")
	case o.replicas > 1 && !strings.HasPrefix(o.db, "postgres://") && !strings.HasPrefix(o.db, "postgresql://"):
		return errors.New("--replicas above 1 needs --db postgres://...: replicas share one PostgreSQL database")
	case o.replicas > 1 && (o.addr != "" || o.portalAddr != "" || o.inProcess):
		return errors.New("--addr, --portal-addr and --in-process start one server: drop them with --replicas")
	case o.server != "" && (o.db != "" || o.replicas > 1):
		return errors.New("--db and --replicas start servers: drop them with --server")
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

	servers := []string{o.server}
	pids := []int{o.serverPID}
	if o.server == "" {
		srv, err := startBenchServers(ctx, env, o)
		if err != nil {
			return err
		}
		defer srv.stop()
		servers, pids, o.token, o.adminToken = srv.urls, srv.pids, srv.producer, srv.admin
	}
	for i := range servers {
		servers[i] = strings.TrimRight(servers[i], "/")
	}
	o.server = servers[0]

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
	ln, err := net.Listen("tcp", o.sinkAddr)
	if err != nil {
		return fmt.Errorf("--sink-addr: %w", err)
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
	// With several replicas, ingest goes to those that do not deliver the
	// webhook, so every entry crosses from one replica to another.
	ingestTo := servers
	if len(servers) > 1 {
		owner, err := benchOwner(ctx, client, servers)
		if err != nil {
			return err
		}
		ingestTo = append(append([]string(nil), servers[:owner]...), servers[owner+1:]...)
		fmt.Fprintf(env.Stdout, "replicas:   %d on one database; replica %d delivers the webhook, ingest goes to the other%s\n",
			len(servers), owner+1, map[bool]string{true: "", false: "s"}[len(ingestTo) == 1])
	}
	// The raw rate is measured here, with the servers started and idle, in
	// the same window as the run it is compared with.
	var rawRate float64
	var rawProcs int
	if o.signFor > 0 {
		rawRate, rawProcs = rawSignRate(o.signFor)
		fmt.Fprintf(env.Stdout, "raw sign:   %.0f Ed25519 signatures/s on %d goroutines (GOMAXPROCS), measured %v before the run\n",
			rawRate, rawProcs, o.signFor)
	}
	// The server audits its own API calls into the same org log; the sink
	// counts only the bench's entries (trace ids bench-N).
	cpu0 := procsCPU(pids)
	start := time.Now()
	var ingestedN atomic.Int64
	stopProgress := benchProgress(env, o, start, &ingestedN, sk)
	if err := benchIngest(ctx, client, o, ingestTo, &ingestedN); err != nil {
		stopProgress()
		return err
	}
	ingested := time.Since(start)
	drainFrom := time.Now()
	if o.dead {
		fmt.Fprintf(env.Stdout, "ingested %d entries in %.1fs with the destination down; peak RSS so far %s\n",
			o.entries, ingested.Seconds(), procsPeakRSS(pids))
		dead.Store(false)
	}
	deadline := time.Now().Add(o.timeout)
	for sk.Stats().Lines < int64(o.entries) {
		if time.Now().After(deadline) {
			stopProgress()
			return fmt.Errorf("only %d of %d entries delivered after %v", sk.Stats().Lines, o.entries, o.timeout)
		}
		select {
		case <-ctx.Done():
			stopProgress()
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	stopProgress()
	st := sk.Stats()
	wall := st.LastReceipt.Sub(start)
	cpu1 := procsCPU(pids)
	w := env.Stdout
	fmt.Fprintf(w, "entries:    %d (%s, batches of %d, %d in flight, rate %s)\n", o.entries, o.format, o.batch, o.conc, rateText(o.rate))
	fmt.Fprintf(w, "ingest:     %.1fs, %.0f entries/s accepted (durable)\n", ingested.Seconds(), float64(o.entries)/ingested.Seconds())
	e2e := float64(st.Lines) / wall.Seconds()
	fmt.Fprintf(w, "delivered:  %d lines in %d requests, %.1fs from the first ingest, %.0f entries/s end to end\n",
		st.Lines, st.Requests, wall.Seconds(), e2e)
	if rawRate > 0 {
		// Measured again after the run, and the faster of the two taken:
		// a 2 s window swings with the machine (46,000 to 78,000/s on the
		// same machine within minutes), and a slow one would flatter the
		// ratio.
		after, _ := rawSignRate(o.signFor)
		fmt.Fprintf(w, "raw after:  %.0f Ed25519 signatures/s, measured %v after the run\n", after, o.signFor)
		rawRate = max(rawRate, after)
		fmt.Fprintf(w, "ratio:      end to end / raw signing = %.2f (%.0f / %.0f per second, the faster raw window)\n", e2e/rawRate, e2e, rawRate)
	}
	fmt.Fprintf(w, "bytes:      %.1f MB of lines, %.1f MB gzipped on the wire (%.1fx)\n",
		float64(st.Bytes)/1e6, float64(st.WireBytes)/1e6, float64(st.Bytes)/max(float64(st.WireBytes), 1))
	if o.dead {
		fmt.Fprintf(w, "drain:      %.1fs after the destination came back\n", st.LastReceipt.Sub(drainFrom).Seconds())
	}
	if l := st.LatencyMS; l != nil {
		fmt.Fprintf(w, "latency:    ingest to receipt p50 %d ms, p99 %d ms, max %d ms (%d lines)\n", l.P50, l.P99, l.Max, l.Count)
	}
	fmt.Fprintf(w, "signatures: %d verified, %d failed (one line in %d checked)\n", st.Verified, st.Failed, o.verifyEvery)
	for i, pid := range pids {
		if pid <= 0 {
			continue
		}
		c0, c1 := cpu0[i], cpu1[i]
		fmt.Fprintf(w, "server:     pid %d, CPU %.1fs (%.1f%% of one core over the run, %.3f ms per event), peak RSS %s\n",
			pid, c1-c0, 100*(c1-c0)/wall.Seconds(), 1000*(c1-c0)/float64(st.Lines), procPeakRSS(pid))
	}
	if st.Failed > 0 {
		return fmt.Errorf("%d signatures failed to verify: %s", st.Failed, st.LastFailure)
	}
	return nil
}

// benchProgress prints a line every --progress while the bench runs, so a
// long run shows it is alive and how fast it goes; the returned func stops
// it.
func benchProgress(env *Env, o benchOpts, start time.Time, ingested *atomic.Int64, sk *sink.Sink) (stop func()) {
	if o.progressEvery <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(o.progressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				el := time.Since(start).Seconds()
				n, d := ingested.Load(), sk.Stats().Lines
				fmt.Fprintf(env.Stderr, "progress:   %.0fs: %d/%d ingested, %d delivered (%.0f/s so far)\n", el, n, o.entries, d, float64(d)/el)
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// benchOwner finds the replica that delivers the org webhook: the one whose
// /metrics reports its stream's lag. Leases are taken within seconds of the
// webhook being enabled.
func benchOwner(ctx context.Context, client *http.Client, servers []string) (int, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for i, s := range servers {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s+"/metrics", nil)
			resp, err := client.Do(req)
			if err != nil {
				continue
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if bytes.Contains(b, []byte("sigtrail_delivery_lag_entries{")) {
				return i, nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return 0, errors.New("no replica took the webhook within 30s")
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
		"sequence_numbers": o.sequenceNumbers,
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
func benchIngest(ctx context.Context, client *http.Client, o benchOpts, servers []string, ingested *atomic.Int64) error {
	reqs := (o.entries + o.batch - 1) / o.batch
	// Paced, a feeder hands out request numbers on the ticks; flat out,
	// producers take the next number themselves (a hand-off a request
	// costs as much as the work at one event per request).
	jobs := make(chan int)
	var taken atomic.Int64
	next := func() (int, bool) {
		if o.rate > 0 {
			i, ok := <-jobs
			return i, ok
		}
		if i := int(taken.Add(1)) - 1; i < reqs && ctx.Err() == nil {
			return i, true
		}
		return 0, false
	}
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
			conns := make([]*benchConn, len(servers))
			for i, s := range servers {
				var err error
				if conns[i], err = newBenchConn(s, o.token); err != nil {
					fail(err)
					return
				}
			}
			defer func() {
				for _, c := range conns {
					if c != nil {
						c.close()
					}
				}
			}()
			for {
				i, ok := next()
				if !ok {
					return
				}
				n := min(o.batch, o.entries-i*o.batch)
				buf = benchLines(buf[:0], i*o.batch, n)
				var err error
				if c := conns[i%len(servers)]; c != nil {
					err = c.post(ctx, buf)
				} else {
					err = benchPost(ctx, client, servers[i%len(servers)], o.token, buf)
				}
				if err != nil {
					fail(err)
					return
				}
				ingested.Add(int64(n))
			}
		}()
	}
	if o.rate > 0 {
		benchFeed(ctx, jobs, reqs, time.Duration(float64(time.Second)*float64(o.batch)/o.rate))
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// benchFeed hands out request numbers 0..reqs-1, one every tick, and
// closes jobs after the last or once ctx ends.
func benchFeed(ctx context.Context, jobs chan<- int, reqs int, every time.Duration) {
	defer close(jobs)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for i := range reqs {
		if i > 0 {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
		select {
		case <-ctx.Done():
			return
		case jobs <- i:
		}
	}
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

func benchPost(ctx context.Context, client *http.Client, server, token string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, server+"/v1/entries", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
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
