package postgres

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// The server's own conditions that a retry later can get past answer 503,
// not 500: what the database says, not what the request did.
func TestUnavailableStates(t *testing.T) {
	t.Parallel()
	cases := []struct {
		code string
		want bool
	}{
		{"53100", true}, // disk full
		{"53200", true}, // out of memory
		{"54000", true}, // program limit exceeded, e.g. the NOTIFY queue full
		{"53300", true}, // too many connections
		{"40P01", true}, // deadlock victim
		{"57P01", true}, // admin shutdown
		{"08006", true}, // connection failure
		{"23505", false},
		{"42P01", false},
	}
	for _, c := range cases {
		err := fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: c.code})
		if got := unavailable(err); got != c.want {
			t.Errorf("unavailable(%s) = %v, want %v", c.code, got, c.want)
		}
	}
	if unavailable(errors.New("plain")) {
		t.Error("a plain error counted as unavailable")
	}
}
