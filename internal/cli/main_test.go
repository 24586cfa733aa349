package cli

import (
	"testing"

	"github.com/sigtrail/sigtrail/internal/store/postgres/pgtest"
)

// TestMain stops the throwaway PostgreSQL that tests may start.
func TestMain(m *testing.M) { pgtest.Main(m) }
