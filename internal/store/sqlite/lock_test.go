package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestExclusiveRefusesASecondOpener(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sigtrail.db")
	first, err := Open(t.Context(), path, Options{Exclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(t.Context(), path, Options{Exclusive: true})
	if err == nil || !strings.Contains(err.Error(), "another sigtrail process is using") {
		t.Fatalf("second exclusive Open: %v, want a refusal naming the other process", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	// Closing releases the lock: the next server starts.
	again, err := Open(t.Context(), path, Options{Exclusive: true})
	if err != nil {
		t.Fatalf("Open after the first closed: %v", err)
	}
	again.Close()
}
