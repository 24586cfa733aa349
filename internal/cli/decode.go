package cli

import (
	"context"
	"errors"
)

// runDecode is being written; until then it says so.
func runDecode(_ context.Context, _ *Env, _ []string) error {
	return errors.New("not implemented yet")
}
