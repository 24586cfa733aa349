package postgres

import (
	"context"
	"testing"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/postgres/pgtest"
	"github.com/sigtrail/sigtrail/internal/store/storetest"
)

// openURL opens a store on url and closes it when t ends.
func openURL(t testing.TB, url string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), url, opts)
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

// openTest opens a store on a new empty database.
func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	return openURL(t, pgtest.URL(t), opts)
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, storetest.Backend{
		Open: func(t *testing.T) store.Store { return openTest(t, Options{}) },
		OpenPair: func(t *testing.T) (store.Store, store.Store) {
			url := pgtest.URL(t)
			return openURL(t, url, Options{}), openURL(t, url, Options{})
		},
	})
}
