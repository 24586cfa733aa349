package cli

import (
	"context"
	"errors"
)

// runKeys is being written; until then it says so.
func runKeys(_ context.Context, _ *Env, _ []string) error {
	return errors.New("not implemented yet")
}
