package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/storetest"
)

// openTest opens a store on a new file in t's temporary directory and
// closes it when t ends.
func openTest(t *testing.T, opts Options) *Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "sigtrail.db"), opts)
}

// openAt opens a store on path and closes it when t ends.
func openAt(t *testing.T, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, storetest.Backend{
		Open: func(t *testing.T) store.Store { return openTest(t, Options{}) },
		// Two handles on one file: two writers, each with its own cache of
		// stream positions, as two processes would have.
		OpenPair: func(t *testing.T) (store.Store, store.Store) {
			path := filepath.Join(t.TempDir(), "sigtrail.db")
			return openAt(t, path, Options{}), openAt(t, path, Options{})
		},
	})
}
