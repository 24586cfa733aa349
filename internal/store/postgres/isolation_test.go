package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/store/postgres/pgtest"
)

// TestTransactionsAreReadCommitted: the store's transactions run at READ
// COMMITTED even where the database's default is stricter, since they are
// written for it (CreateLoginGrant and SetIdentityPassword see each
// other's commits only so).
func TestTransactionsAreReadCommitted(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	s := openURL(t, url+sep+"default_transaction_isolation=repeatable%20read", Options{})
	var level string
	if err := s.write(t.Context(), "isolation", func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, "SHOW transaction_isolation").Scan(&level)
	}); err != nil {
		t.Fatal(err)
	}
	if level != "read committed" {
		t.Fatalf("transaction_isolation %q, want read committed", level)
	}
	var dflt string
	if err := s.pool.QueryRow(t.Context(), "SHOW default_transaction_isolation").Scan(&dflt); err != nil {
		t.Fatal(err)
	}
	if dflt != "repeatable read" {
		t.Fatalf("the test's default_transaction_isolation is %q: the URL parameter did not take", dflt)
	}
}
