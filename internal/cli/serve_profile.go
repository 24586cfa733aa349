package cli

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// serveCPUProfileEnv names the file a server writes a CPU profile of its
// whole life to. It is environment only (no flag, not in --help): a tool
// for measuring, which `sigtrail bench --server-cpuprofile` sets for the
// servers it starts.
const serveCPUProfileEnv = "SIGTRAIL_CPUPROFILE"

// startServeProfile starts the CPU profile named by SIGTRAIL_CPUPROFILE, if
// any; the returned func stops it and closes the file.
func startServeProfile(getenv func(string) string) (stop func(), err error) {
	path := getenv(serveCPUProfileEnv)
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", serveCPUProfileEnv, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", serveCPUProfileEnv, err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
