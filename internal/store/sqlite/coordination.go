package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// Heartbeat records that replica is alive until expires.
func (s *Store) Heartbeat(ctx context.Context, replica string, expires time.Time) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO replicas (id, expires) VALUES (?, ?)
			ON CONFLICT (id) DO UPDATE SET expires = excluded.expires`, replica, sqlcodec.ToNS(expires))
		return err
	})
	return s.internal(err, "heartbeat")
}

// LiveReplicas lists the replicas whose heartbeat expires after now.
func (s *Store) LiveReplicas(ctx context.Context, now time.Time) ([]string, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT id FROM replicas WHERE expires > ? ORDER BY id", sqlcodec.ToNS(now))
	if err != nil {
		return nil, s.internal(err, "live replicas")
	}
	out, err := collectRows(rows, func(sc interface{ Scan(...any) error }) (string, error) {
		var id string
		err := sc.Scan(&id)
		return id, err
	})
	return out, s.internal(err, "live replicas")
}

// RemoveReplica deletes the replica's heartbeat and frees its leases.
func (s *Store) RemoveReplica(ctx context.Context, replica string) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		if _, err := q.ExecContext(ctx, "DELETE FROM replicas WHERE id = ?", replica); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, "UPDATE leases SET owner = '', expires = 0 WHERE owner = ?", replica)
		return err
	})
	return s.internal(err, "remove replica")
}

const leaseCols = "name, owner, epoch, expires"

func scanLease(sc interface{ Scan(...any) error }) (store.Lease, error) {
	var l store.Lease
	var expires int64
	err := sc.Scan(&l.Name, &l.Owner, &l.Epoch, &expires)
	l.Expires = sqlcodec.FromNS(expires)
	return l, err
}

// AcquireLease gives the lease to owner when it is free, expired or
// already owner's; a new owner gets the next epoch.
func (s *Store) AcquireLease(ctx context.Context, name, owner string, now, expires time.Time) (store.Lease, error) {
	if name == "" || owner == "" {
		return store.Lease{}, apperr.New(apperr.Invalid, "a lease needs a name and an owner")
	}
	var got store.Lease
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		cur, err := scanLease(q.QueryRowContext(ctx, "SELECT "+leaseCols+" FROM leases WHERE name = ?", name))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			// A new row starts above the epochs PruneCoordination deleted.
			cur = store.Lease{Name: name}
			err = q.QueryRowContext(ctx, "SELECT epoch FROM leases WHERE name = ?", store.PrunedEpochsLease).Scan(&cur.Epoch)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		case err != nil:
			return err
		}
		held := cur.Owner != "" && cur.Expires.After(now)
		if held && cur.Owner != owner {
			return apperr.New(apperr.Conflict, "lease %s is held by %s until %s", name, cur.Owner, cur.Expires.Format(time.RFC3339Nano))
		}
		got = store.Lease{Name: name, Owner: owner, Epoch: cur.Epoch, Expires: expires}
		if cur.Owner != owner {
			got.Epoch++
		}
		_, err = q.ExecContext(ctx, `INSERT INTO leases (`+leaseCols+`) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, epoch = excluded.epoch, expires = excluded.expires`,
			name, owner, int64(got.Epoch), sqlcodec.ToNS(expires))
		return err
	})
	if err != nil {
		return store.Lease{}, s.internal(err, "acquire lease")
	}
	return got, nil
}

// RenewLeases extends the leases still held with the same owner and epoch.
func (s *Store) RenewLeases(ctx context.Context, held []store.Lease, expires time.Time) ([]store.Lease, error) {
	var out []store.Lease
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		out = out[:0]
		for _, l := range held {
			res, err := q.ExecContext(ctx, "UPDATE leases SET expires = ? WHERE name = ? AND owner = ? AND epoch = ?",
				sqlcodec.ToNS(expires), l.Name, l.Owner, int64(l.Epoch))
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 1 {
				l.Expires = expires
				out = append(out, l)
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.internal(err, "renew leases")
	}
	return out, nil
}

// ReleaseLease frees l if it is still held with its owner and epoch.
func (s *Store) ReleaseLease(ctx context.Context, l store.Lease) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		_, err := q.ExecContext(ctx, "UPDATE leases SET owner = '', expires = 0 WHERE name = ? AND owner = ? AND epoch = ?",
			l.Name, l.Owner, int64(l.Epoch))
		return err
	})
	return s.internal(err, "release lease")
}

// ListLeases lists the leases whose names start with prefix. The prefix is
// compared as bytes: substr of TEXT counts characters, not the bytes
// len(prefix) counts, so a name is cast to a BLOB first.
func (s *Store) ListLeases(ctx context.Context, prefix string) ([]store.Lease, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+leaseCols+" FROM leases WHERE substr(CAST(name AS BLOB), 1, ?) = CAST(? AS BLOB) ORDER BY name",
		len(prefix), prefix)
	if err != nil {
		return nil, s.internal(err, "list leases")
	}
	out, err := collectRows(rows, scanLease)
	return out, s.internal(err, "list leases")
}

// ClaimPeriodic is true for one caller per period: the one whose write
// moves last_run into the current period.
func (s *Store) ClaimPeriodic(ctx context.Context, name string, now time.Time, every time.Duration) (bool, error) {
	if every <= 0 {
		return false, apperr.New(apperr.Invalid, "a periodic task needs a positive period")
	}
	claimed := false
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		res, err := q.ExecContext(ctx, `INSERT INTO periodic (name, last_run) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET last_run = excluded.last_run
			WHERE excluded.last_run >= periodic.last_run + ?`,
			name, sqlcodec.ToNS(now), int64(every))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		claimed = n == 1
		return err
	})
	if err != nil {
		return false, s.internal(err, "claim periodic")
	}
	return claimed, nil
}

// checkFence fails with store.ErrLeaseLost unless the named lease has the
// fence's epoch. It runs inside the writing transaction, which on SQLite
// holds the database's write lock, so no take-over can interleave.
func checkFence(ctx context.Context, q querier, lease string, fence store.Fence) error {
	if fence == store.NoFence {
		return nil
	}
	var epoch int64
	err := q.QueryRowContext(ctx, "SELECT epoch FROM leases WHERE name = ?", lease).Scan(&epoch)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && store.Fence(epoch) != fence) {
		return store.ErrLeaseLost
	}
	return err
}
