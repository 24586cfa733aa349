package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// The database holds private keys and destination secrets: only its owner
// may read it, whether sigtrail created it or found it lax.
func TestDatabaseFilesAreOwnerOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh.db")
	lax := filepath.Join(dir, "lax.db")
	if err := os.WriteFile(lax, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(lax, 0o644); err != nil { // past the umask
		t.Fatal(err)
	}
	for _, p := range []string{fresh, lax} {
		st, err := Open(context.Background(), p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.LastSeq(context.Background(), "x"); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{p, p + "-wal", p + "-shm"} {
			fi, err := os.Stat(f)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm()&0o077 != 0 {
				t.Errorf("%s has mode %v, want no group or other access", filepath.Base(f), fi.Mode().Perm())
			}
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
