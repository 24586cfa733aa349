package cli

import (
	"context"
	"errors"
)

// runVerify is being written; until then it says so.
func runVerify(_ context.Context, _ *Env, _ []string) error {
	return errors.New("not implemented yet")
}
