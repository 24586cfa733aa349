package postgres

import (
	"testing"

	"github.com/sigtrail/sigtrail/internal/store/postgres/pgtest"
)

// TestMain stops the throwaway PostgreSQL server, if the tests started one.
func TestMain(m *testing.M) { pgtest.Main(m) }
