package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// SIGTRAIL_CPUPROFILE makes a server write a CPU profile (gzipped pprof)
// of its life; unset, nothing is written; an unwritable path is an error.
// Not parallel: a process has one CPU profile at a time.
func TestServeProfile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cpu.prof")
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == serveCPUProfileEnv {
				return v
			}
			return ""
		}
	}
	stop, err := startServeProfile(env(""))
	if err != nil {
		t.Fatal(err)
	}
	stop()
	stop, err = startServeProfile(env(path))
	if err != nil {
		t.Fatal(err)
	}
	stop()
	b, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		t.Fatalf("profile %d bytes, %v; want a gzipped pprof file", len(b), err)
	}
	if _, err := startServeProfile(env(filepath.Join(dir, "missing", "cpu.prof"))); err == nil {
		t.Fatal("an unwritable profile path was accepted")
	}
}
