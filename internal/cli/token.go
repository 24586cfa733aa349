package cli

import (
	"context"
	"errors"
)

// runToken is being written; until then it says so.
func runToken(_ context.Context, _ *Env, _ []string) error {
	return errors.New("not implemented yet")
}
