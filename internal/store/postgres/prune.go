package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// orphanLeases selects the webhook and replay leases expired before $1
// whose stream has neither a webhook nor a replay job. A lease's stream is
// its name after the prefix (store.WebhookLease, store.ReplayLease).
const orphanLeases = `(starts_with(l.name, 'webhook/') OR starts_with(l.name, 'replay/'))
	AND l.expires < $1
	AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.stream = substr(l.name, strpos(l.name, '/') + 1))
	AND NOT EXISTS (SELECT 1 FROM replay_jobs r WHERE r.stream = substr(l.name, strpos(l.name, '/') + 1))`

// PruneCoordination deletes the replicas and leases no replica will read
// again, and raises the pruned-epochs floor to the highest epoch deleted.
func (s *Store) PruneCoordination(ctx context.Context, before time.Time) (replicas, leases int, err error) {
	err = s.write(ctx, "prune coordination", func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM replicas WHERE expires < $1", sqlcodec.ToNS(before))
		if err != nil {
			return err
		}
		replicas = int(tag.RowsAffected())
		var top *int64
		if err := tx.QueryRow(ctx, `WITH gone AS (DELETE FROM leases l WHERE `+orphanLeases+` RETURNING epoch)
			SELECT count(*), max(epoch) FROM gone`, sqlcodec.ToNS(before)).Scan(&leases, &top); err != nil {
			return err
		}
		if top == nil {
			return nil
		}
		_, err = tx.Exec(ctx, `INSERT INTO leases AS l (name, owner, epoch, expires) VALUES ($1, '', $2, 0)
			ON CONFLICT (name) DO UPDATE SET epoch = GREATEST(l.epoch, excluded.epoch)`, store.PrunedEpochsLease, *top)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	return replicas, leases, nil
}
