package delivery

import (
	"context"
	"errors"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

// errSettingsChanged stops a dispatcher whose webhook or destination
// changed in the store: the reload it asked for starts one with the new
// settings.
var errSettingsChanged = errors.New("delivery: the webhook's settings changed")

// checkSettings closes the last window of hold.go on a replica of a
// cluster (a fenced dispatcher): a change committed on another replica is
// heard through the change feed, and a dispatcher can read entries
// appended after that change before this replica has heard it (a replica
// paused or starved across the change and the append). So after reading a
// batch and before sending it, the dispatcher reads its webhook and
// destination: anything the batch holds was committed before this read
// began, so a change committed before any of those entries is seen here,
// and the batch is left for the new settings instead of going the old way.
// Two reads a batch, on PostgreSQL only; a single SQLite process hears its
// own changes before it answers them.
func (d *dispatcher) checkSettings(ctx context.Context) error {
	if d.fence == store.NoFence {
		return nil
	}
	st := d.m.deps.Store
	w, err := st.GetWebhook(ctx, d.stream)
	switch {
	case apperr.Is(err, apperr.NotFound):
		return d.settingsChanged()
	case err != nil:
		return err
	case !w.Enabled || w.DestinationID != d.dest.ID:
		return d.settingsChanged()
	}
	dest, err := st.GetDestination(ctx, w.OrgID, w.DestinationID)
	switch {
	case apperr.Is(err, apperr.NotFound):
		return d.settingsChanged()
	case err != nil:
		return err
	case !store.SameDelivery(d.dest, dest):
		return d.settingsChanged()
	}
	return nil
}

func (d *dispatcher) settingsChanged() error {
	d.m.log.Info("delivery: the webhook or its destination changed before this replica heard of it; reloading",
		"stream", d.stream)
	d.m.WebhookChanged(d.stream)
	return errSettingsChanged
}
