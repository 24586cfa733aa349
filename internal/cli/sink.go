package cli

import (
	"context"
	"errors"
)

// runSink is being written; until then it says so.
func runSink(_ context.Context, _ *Env, _ []string) error {
	return errors.New("not implemented yet")
}
