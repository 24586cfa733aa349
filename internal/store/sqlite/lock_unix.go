//go:build unix

package sqlite

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockExclusive takes an exclusive advisory lock on path+".lock", held
// until the returned file is closed (or the process dies: the kernel drops
// it, so a kill -9 leaves nothing to clean up). A second server on the same
// file would run its own dispatchers and retention next to the first one's,
// sending every line twice; SQLite's own locks cannot see that.
func lockExclusive(path string) (*os.File, error) {
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another sigtrail process is using %s (it holds %s); stop it first, or run several replicas on PostgreSQL", path, name)
		}
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	return f, nil
}
