package sqlite

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine outlives the tests: a Store must
// stop its writer and connections on Close.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
