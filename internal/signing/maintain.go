package signing

import (
	"context"
	"time"
)

// DefaultReloadEvery is how often Maintain reloads the keys: how long a
// rotation made by another process takes to reach this one's JWKS and
// signer.
const DefaultReloadEvery = 30 * time.Second

// Maintain reloads the keys every DefaultReloadEvery until ctx ends, so
// that other processes' rotations show here and expired keys are dropped.
// It returns ctx's error. A failed reload keeps the current keys and is
// tried again at the next tick; use MaintainEvery to hear of failures.
func (k *Keyring) Maintain(ctx context.Context) error {
	return k.MaintainEvery(ctx, DefaultReloadEvery, nil)
}

// MaintainEvery is Maintain with its period and a callback that receives
// each failed reload (for the caller's log); onErr may be nil.
func (k *Keyring) MaintainEvery(ctx context.Context, every time.Duration, onErr func(error)) error {
	for {
		t := k.clk.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		}
		if err := k.Reload(ctx); err != nil && onErr != nil && ctx.Err() == nil {
			onErr(err)
		}
	}
}
