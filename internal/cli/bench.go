package cli

import (
	"context"
	"errors"
)

// runBench is being written; until then it says so.
func runBench(_ context.Context, _ *Env, _ []string) error {
	return errors.New("not implemented yet")
}
