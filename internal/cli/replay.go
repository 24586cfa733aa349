package cli

import (
	"context"
	"errors"
)

// runReplay is being written; until then it says so.
func runReplay(_ context.Context, _ *Env, _ []string) error {
	return errors.New("not implemented yet")
}
