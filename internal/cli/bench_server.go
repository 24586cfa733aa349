package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sigtrail/sigtrail/internal/procstat"
)

// benchServers are the server processes (replicas) the bench started.
type benchServers struct {
	urls            []string // management API of each replica
	admin, producer string
	pids            []int
	stop            func()
}

// startBenchServers starts --replicas `sigtrail serve` processes on
// 127.0.0.1 (or --addr for a single one) with fresh data dirs, on --db when
// given, one bootstrap token for all, and makes a producer token.
func startBenchServers(ctx context.Context, env *Env, o benchOpts) (*benchServers, error) {
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	s := &benchServers{admin: "bench-admin-" + hex.EncodeToString(secret)}
	var stops []func()
	s.stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	var firstDir string
	for i := range o.replicas {
		dir := o.dataDir
		if dir != "" && o.replicas > 1 {
			dir = fmt.Sprintf("%s/replica%d", dir, i)
		}
		profile := o.serverCPUProfile
		if profile != "" && i > 0 {
			profile = fmt.Sprintf("%s.%d", profile, i+1)
		}
		url, pid, stop, err := startBenchServer(ctx, env, o, dir, s.admin, profile)
		if err != nil {
			s.stop()
			return nil, err
		}
		stops = append(stops, stop.stop)
		if i == 0 {
			firstDir = stop.dir
		}
		s.urls, s.pids = append(s.urls, url), append(s.pids, pid)
	}
	args := []string{"token", "create", "--org", "default", "--role", "producer", "--name", "bench", "--data-dir", firstDir}
	if o.db != "" {
		args = append(args, "--db", o.db)
	}
	tok, tokErr := &lockedBuffer{}, &lockedBuffer{}
	if code := Run(ctx, args, env.Getenv, strings.NewReader(""), tok, tokErr); code != 0 {
		s.stop()
		return nil, fmt.Errorf("creating the producer token failed: %s", oneLine(tokErr.String()))
	}
	s.producer = strings.TrimSpace(tok.String())
	return s, nil
}

// benchServer is one started server's data dir and how to stop it.
type benchServer struct {
	dir  string
	stop func()
}

// startBenchServer starts one `sigtrail serve` with dir as its data dir (a
// temporary one, removed after, when empty) and waits until it serves.
func startBenchServer(ctx context.Context, env *Env, o benchOpts, dir, admin, cpuProfile string) (string, int, benchServer, error) {
	cleanup := func() {}
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "sigtrail-bench-"); err != nil {
			return "", 0, benchServer{}, err
		}
		cleanup = func() { os.RemoveAll(dir) }
	}
	addr, portalAddr := "127.0.0.1:0", "127.0.0.1:0"
	if o.addr != "" {
		addr = o.addr
	}
	if o.portalAddr != "" {
		portalAddr = o.portalAddr
	}
	args := []string{"serve", "--data-dir", dir, "--addr", addr, "--portal-addr", portalAddr,
		"--insecure-destinations", "--log-level", "warn"}
	if o.db != "" {
		args = append(args, "--db", o.db)
	}
	getenv := func(k string) string {
		if k == "SIGTRAIL_BOOTSTRAP_TOKEN" {
			return admin
		}
		if k == serveCPUProfileEnv {
			return cpuProfile
		}
		return env.Getenv(k)
	}
	out := &lockedBuffer{}
	sctx, scancel := context.WithCancel(ctx)
	var done chan struct{}
	var pid int
	if o.inProcess {
		done = make(chan struct{})
		go func() {
			defer close(done)
			Run(sctx, args, getenv, strings.NewReader(""), out, env.Stderr)
		}()
		pid = os.Getpid()
	} else {
		exe, err := os.Executable()
		if err != nil {
			scancel()
			cleanup()
			return "", 0, benchServer{}, err
		}
		cmd := exec.CommandContext(sctx, exe, args...)
		cmd.Env = append(os.Environ(), "SIGTRAIL_BOOTSTRAP_TOKEN="+admin, serveCPUProfileEnv+"="+cpuProfile)
		cmd.Stdout, cmd.Stderr = out, env.Stderr
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
		cmd.WaitDelay = 10 * time.Second
		if err := cmd.Start(); err != nil {
			scancel()
			cleanup()
			return "", 0, benchServer{}, err
		}
		pid = cmd.Process.Pid
		done = make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
	}
	stop := func() { scancel(); <-done; cleanup() }
	apiURL := regexp.MustCompile(`management API on (http://[0-9.]+:\d+)`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := apiURL.FindStringSubmatch(out.String()); m != nil {
			return m[1], pid, benchServer{dir: dir, stop: stop}, nil
		}
		select {
		case <-done:
			stop()
			return "", 0, benchServer{}, errors.New("the server exited before it served")
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return "", 0, benchServer{}, errors.New("the server did not start within 30s")
		}
	}
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

// procsCPU reads the CPU seconds of each pid (0 where unknown).
func procsCPU(pids []int) []float64 {
	out := make([]float64, len(pids))
	for i, pid := range pids {
		out[i], _ = procstat.CPUSeconds(pid)
	}
	return out
}

// procsPeakRSS lists procPeakRSS of each pid.
func procsPeakRSS(pids []int) string {
	var out []string
	for _, pid := range pids {
		if pid > 0 {
			out = append(out, procPeakRSS(pid))
		}
	}
	return strings.Join(out, ", ")
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
