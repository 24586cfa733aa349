package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// Heartbeat records that replica is alive until expires.
func (s *Store) Heartbeat(ctx context.Context, replica string, expires time.Time) error {
	return s.write(ctx, "heartbeat", func(ctx context.Context, tx pgx.Tx) error {
		// xmax is 0 on a row this statement inserted: a replica's first
		// heartbeat, which the others hear of so they hand it its share now.
		var joined bool
		if err := tx.QueryRow(ctx, `INSERT INTO replicas (id, expires) VALUES ($1, $2)
			ON CONFLICT (id) DO UPDATE SET expires = excluded.expires
			RETURNING xmax = 0`, replica, sqlcodec.ToNS(expires)).Scan(&joined); err != nil {
			return err
		}
		if !joined {
			return nil
		}
		return notify(ctx, tx, change{K: "m"})
	})
}

// LiveReplicas lists the replicas whose heartbeat expires after now.
func (s *Store) LiveReplicas(ctx context.Context, now time.Time) ([]string, error) {
	out, _, err := list(s, ctx, "live replicas", "SELECT id FROM replicas WHERE expires > $1 ORDER BY id",
		args{sqlcodec.ToNS(now)}, store.Page{}, func(sc scanner) (string, error) {
			var id string
			err := sc.Scan(&id)
			return id, err
		})
	return out, err
}

// RemoveReplica deletes the replica's heartbeat and frees its leases,
// keeping their epochs.
func (s *Store) RemoveReplica(ctx context.Context, replica string) error {
	return s.write(ctx, "remove replica", func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM replicas WHERE id = $1", replica); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE leases SET owner = '', expires = 0 WHERE owner = $1", replica); err != nil {
			return err
		}
		return notify(ctx, tx, change{K: "m"})
	})
}

const leaseCols = "name, owner, epoch, expires"

func scanLease(sc scanner) (store.Lease, error) {
	var l store.Lease
	var expires int64
	err := sc.Scan(&l.Name, &l.Owner, &l.Epoch, &expires)
	l.Expires = sqlcodec.FromNS(expires)
	return l, err
}

// AcquireLease gives the lease to owner when it is free, expired at now or
// already owner's, in one statement: the upsert's row lock makes two
// replicas' attempts take turns, and the second sees the first's owner. A
// new owner gets the next epoch; the row is deleted only by
// PruneCoordination, which keeps the floor a new row starts above, so
// epochs never repeat.
func (s *Store) AcquireLease(ctx context.Context, name, owner string, now, expires time.Time) (store.Lease, error) {
	if name == "" || owner == "" {
		return store.Lease{}, apperr.New(apperr.Invalid, "a lease needs a name and an owner")
	}
	var got store.Lease
	err := s.write(ctx, "acquire lease", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		// A new row starts above the epochs PruneCoordination deleted.
		got, err = scanLease(tx.QueryRow(ctx, `INSERT INTO leases AS l (name, owner, epoch, expires)
			VALUES ($1, $2, 1 + COALESCE((SELECT epoch FROM leases WHERE name = $5), 0), $4)
			ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires = excluded.expires,
				epoch = CASE WHEN l.owner = excluded.owner THEN l.epoch ELSE l.epoch + 1 END
			WHERE l.owner = excluded.owner OR l.owner = '' OR l.expires <= $3
			RETURNING `+leaseCols, name, owner, sqlcodec.ToNS(now), sqlcodec.ToNS(expires), store.PrunedEpochsLease))
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		cur, err := scanLease(tx.QueryRow(ctx, "SELECT "+leaseCols+" FROM leases WHERE name = $1", name))
		if err != nil {
			return err
		}
		return apperr.New(apperr.Conflict, "lease %s is held by %s until %s", name, cur.Owner, cur.Expires.Format(time.RFC3339Nano))
	})
	if err != nil {
		return store.Lease{}, err
	}
	return got, nil
}

// RenewLeases extends, in one statement, the leases of held whose owner
// and epoch are unchanged, and returns them in held's order.
func (s *Store) RenewLeases(ctx context.Context, held []store.Lease, expires time.Time) ([]store.Lease, error) {
	if len(held) == 0 {
		return nil, nil
	}
	names, owners, epochs := make([]string, len(held)), make([]string, len(held)), make([]int64, len(held))
	for i, l := range held {
		names[i], owners[i], epochs[i] = l.Name, l.Owner, int64(l.Epoch)
	}
	var out []store.Lease
	err := s.write(ctx, "renew leases", func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE leases AS l SET expires = $4
			FROM unnest($1::text[], $2::text[], $3::bigint[]) AS h (name, owner, epoch)
			WHERE l.name = h.name AND l.owner = h.owner AND l.epoch = h.epoch AND l.owner <> ''
			RETURNING l.name, l.owner, l.epoch`, names, owners, epochs, sqlcodec.ToNS(expires))
		renewed, err := collect(rows, err, func(sc scanner) (store.Lease, error) {
			var l store.Lease
			err := sc.Scan(&l.Name, &l.Owner, &l.Epoch)
			return l, err
		})
		if err != nil {
			return err
		}
		ok := make(map[store.Lease]bool, len(renewed))
		for _, l := range renewed {
			ok[l] = true
		}
		out = out[:0]
		for _, l := range held {
			if ok[store.Lease{Name: l.Name, Owner: l.Owner, Epoch: l.Epoch}] {
				l.Expires = expires
				out = append(out, l)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ReleaseLease frees l if it is still held with its owner and epoch.
func (s *Store) ReleaseLease(ctx context.Context, l store.Lease) error {
	return s.write(ctx, "release lease", func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "UPDATE leases SET owner = '', expires = 0 WHERE name = $1 AND owner = $2 AND epoch = $3 AND owner <> ''",
			l.Name, l.Owner, int64(l.Epoch))
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		// The replica the lease was released for takes it at once.
		return notify(ctx, tx, change{K: "m"})
	})
}

// ListLeases lists the leases whose names start with prefix.
func (s *Store) ListLeases(ctx context.Context, prefix string) ([]store.Lease, error) {
	out, _, err := list(s, ctx, "list leases", "SELECT "+leaseCols+" FROM leases WHERE starts_with(name, $1) ORDER BY name",
		args{prefix}, store.Page{}, scanLease)
	return out, err
}

// ClaimPeriodic is true for one caller per period: the one whose upsert
// moves last_run at least a period on (the row lock makes concurrent
// callers take turns, and the later ones see the moved last_run).
func (s *Store) ClaimPeriodic(ctx context.Context, name string, now time.Time, every time.Duration) (bool, error) {
	if every <= 0 {
		return false, apperr.New(apperr.Invalid, "a periodic task needs a positive period")
	}
	var claimed bool
	err := s.write(ctx, "claim periodic", func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO periodic AS p (name, last_run) VALUES ($1, $2)
			ON CONFLICT (name) DO UPDATE SET last_run = excluded.last_run
			WHERE excluded.last_run >= p.last_run + $3`, name, sqlcodec.ToNS(now), int64(every))
		claimed = tag.RowsAffected() == 1
		return err
	})
	return claimed, err
}
