package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/store/postgres/pgtest"
	"github.com/sigtrail/sigtrail/internal/testenv"
)

// binary is the sigtrail executable built once for the package.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sigtrail-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "sigtrail")
	build := exec.Command("go", "build", "-o", binary, "../cmd/sigtrail")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building sigtrail:", err)
		os.Exit(1)
	}
	code := m.Run()
	pgtest.Stop() // the throwaway PostgreSQL of the replica tests, if one was started
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running sigtrail process whose output the test keeps.
type proc struct {
	cmd    *exec.Cmd
	stderr testenv.LogBuffer
}

func (p *proc) log() string { return p.stderr.String() }

// start runs `sigtrail args...` and waits for the first stdout line that
// matches ready, returning its submatches. The process is stopped (SIGTERM,
// then SIGKILL) when the test ends, and its log is shown if the test failed.
func start(t testing.TB, env []string, ready *regexp.Regexp, args ...string) (*proc, []string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	p := &proc{cmd: cmd}
	cmd.Stderr = &p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", args[0], p.log())
		}
	})
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("sigtrail %s exited before it was ready:\n%s", args[0], p.log())
			}
			if m := ready.FindStringSubmatch(l); m != nil {
				return p, m
			}
		case <-deadline:
			t.Fatalf("sigtrail %s not ready after 30s:\n%s", args[0], p.log())
		}
	}
}

var serveReady = regexp.MustCompile(`management API on (http://\S+), Dev Portals on http://<portal>\.(\S+):(\d+)`)

type server struct {
	*proc
	api        string // http://127.0.0.1:port
	portalPort string
}

func startServe(t testing.TB, dataDir, token string, extra ...string) server {
	t.Helper()
	args := append([]string{"serve", "--data-dir", dataDir, "--addr", "127.0.0.1:0",
		"--portal-addr", "127.0.0.1:0", "--insecure-destinations"}, extra...)
	p, m := start(t, []string{"SIGTRAIL_BOOTSTRAP_TOKEN=" + token}, serveReady, args...)
	return server{proc: p, api: m[1], portalPort: m[3]}
}

var sinkReady = regexp.MustCompile(`sink listening on (http://\S+)`)

func startSink(t *testing.T, out, jwks string) string {
	t.Helper()
	_, m := start(t, nil, sinkReady, "sink", "--addr", "127.0.0.1:0", "--out", out, "--jwks", jwks)
	return m[1]
}

// portalClient sends every request to the portal listener on 127.0.0.1
// while keeping the portal's host name, as a browser resolving
// <name>.localhost to loopback does.
func portalClient(port string) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, "127.0.0.1:"+port)
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// runCLI runs a sigtrail command to completion.
func runCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(binary, args...).CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out)), code
}
