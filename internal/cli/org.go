package cli

import (
	"context"
	"errors"
)

// runOrg is being written; until then it says so.
func runOrg(_ context.Context, _ *Env, _ []string) error {
	return errors.New("not implemented yet")
}
