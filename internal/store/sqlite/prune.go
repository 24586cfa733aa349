package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// orphanLeases selects the webhook and replay leases expired before ?
// whose stream has neither a webhook nor a replay job. A lease's stream is
// its name after the prefix (store.WebhookLease, store.ReplayLease).
const orphanLeases = `(substr(name, 1, 8) = 'webhook/' OR substr(name, 1, 7) = 'replay/')
	AND expires < ?
	AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.stream = substr(leases.name, instr(leases.name, '/') + 1))
	AND NOT EXISTS (SELECT 1 FROM replay_jobs r WHERE r.stream = substr(leases.name, instr(leases.name, '/') + 1))`

// PruneCoordination deletes the replicas and leases no replica will read
// again, and raises the pruned-epochs floor to the highest epoch deleted.
func (s *Store) PruneCoordination(ctx context.Context, before time.Time) (int, int, error) {
	// The job's counts are read only once it answered: a caller whose ctx
	// ends returns while the writer may still run the job.
	var replicas, leases int
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		res, err := q.ExecContext(ctx, "DELETE FROM replicas WHERE expires < ?", sqlcodec.ToNS(before))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		replicas = int(n)
		var top sql.NullInt64
		if err := q.QueryRowContext(ctx, "SELECT count(*), max(epoch) FROM leases WHERE "+orphanLeases,
			sqlcodec.ToNS(before)).Scan(&leases, &top); err != nil {
			return err
		}
		if !top.Valid {
			return nil
		}
		// The writer's transaction holds the database's write lock, so
		// nothing changes between the count and the delete.
		if _, err := q.ExecContext(ctx, "DELETE FROM leases WHERE "+orphanLeases, sqlcodec.ToNS(before)); err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, `INSERT INTO leases (name, owner, epoch, expires) VALUES (?, '', ?, 0)
			ON CONFLICT (name) DO UPDATE SET epoch = max(leases.epoch, excluded.epoch)`, store.PrunedEpochsLease, top.Int64)
		return err
	})
	if err != nil {
		return 0, 0, s.internal(err, "prune coordination")
	}
	return replicas, leases, nil
}
