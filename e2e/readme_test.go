package e2e

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/testenv"
)

// readmeStartLines returns the README's lines that start the server and
// wait for it: from the bootstrap token's export to the end of the wait
// loop. Taken from README.md itself, so the test follows what users paste.
func readmeStartLines(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	in := false
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "export SIGTRAIL_BOOTSTRAP_TOKEN=") {
			in = true
		}
		if in {
			out = append(out, l)
		}
		if in && l == "done" {
			return strings.Join(out, "\n") + "\n"
		}
	}
	t.Fatal("README.md: no start-up lines from `export SIGTRAIL_BOOTSTRAP_TOKEN=` to a `done`")
	return ""
}

// runReadmeStart runs the README's start-up lines with bash in a fresh dir
// holding ./sigtrail, the server's API on addr (the README's 8080 swapped
// for it), then stop, a line of bash run after the loop.
func runReadmeStart(t *testing.T, addr, stop string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Symlink(binary, filepath.Join(dir, "sigtrail")); err != nil {
		t.Fatal(err)
	}
	script := strings.ReplaceAll(readmeStartLines(t), "127.0.0.1:8080", addr) + stop
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SIGTRAIL_ADDR="+addr, "SIGTRAIL_PORTAL_ADDR=127.0.0.1:0")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("the README's start-up loop still waits after 30 s:\n%s", script)
	}
	return string(out), err
}

func TestReadmeStartLoopStopsWhenServeExits(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		testenv.Missing(t, "curl is not installed (apt-get install curl)") // the README's loop calls it
	}
	// Another web server holds the port: it answers, but not 200.
	taken := httptest.NewServer(http.NotFoundHandler())
	defer taken.Close()
	start := time.Now()
	out, _ := runReadmeStart(t, taken.Listener.Addr().String(), "")
	if !strings.Contains(out, "sigtrail serve exited") || !strings.Contains(out, "address already in use") {
		t.Fatalf("with the port taken the loop said %q; want it to name serve's error", out)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the loop took %s to notice", d)
	}
}

func TestReadmeStartLoopWaitsForHealthz(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		testenv.Missing(t, "curl is not installed (apt-get install curl)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	// After the loop the server answers; the script then stops it.
	out, _ := runReadmeStart(t, addr, "curl -fs http://"+addr+"/healthz >/dev/null && echo up; kill $SERVE_PID\n")
	if !strings.HasSuffix(out, "\nup\n") || strings.Contains(out, "serve exited") {
		t.Fatalf("the README's start-up lines ended with %q; want the server up", out)
	}
}
