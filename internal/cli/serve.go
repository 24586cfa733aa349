package cli

import (
	"context"
	"errors"
)

func runServe(_ context.Context, _ *Env, _ []string) error {
	return errors.New("not implemented yet")
}
