package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

const replayCols = "stream, org_id, portal_id, start_at, end_at, status, total, sent, cursor, error, created_at, updated_at, high_seq"

func scanReplayJob(sc scanner) (store.ReplayJob, error) {
	var j store.ReplayJob
	var stream string
	var portal *string
	var start, end, created, updated int64
	err := sc.Scan(&stream, &j.OrgID, &portal, &start, &end, &j.Status, &j.Total, &j.Sent, &j.Cursor, &j.Error, &created, &updated, &j.HighSeq)
	j.Stream = store.StreamID(stream)
	if portal != nil {
		j.PortalID = *portal
	}
	j.StartAt = sqlcodec.FromNS(start)
	j.EndAt = sqlcodec.FromNS(end)
	j.CreatedAt = sqlcodec.FromNS(created)
	j.UpdatedAt = sqlcodec.FromNS(updated)
	return j, err
}

// GetReplayJob returns the stream's job; NotFound means unconfigured.
func (s *Store) GetReplayJob(ctx context.Context, stream store.StreamID) (store.ReplayJob, error) {
	return getOne(s, ctx, "get replay job", "replay job", "SELECT "+replayCols+" FROM replay_jobs WHERE stream = $1",
		scanReplayJob, string(stream))
}

// PutReplayJob replaces the stream's job, unless the current one is still
// accepted, pending or running (Conflict). The current job's row is locked
// while it is checked; when there is none, of two concurrent inserts the
// second fails on the primary key, also a Conflict. Every replica hears
// of the new job.
func (s *Store) PutReplayJob(ctx context.Context, j store.ReplayJob) error {
	if j.Stream == "" || j.OrgID == "" {
		return apperr.New(apperr.Invalid, "replay job needs a stream and an org")
	}
	return s.write(ctx, "put replay job", func(ctx context.Context, tx pgx.Tx) error {
		if j.PortalID != "" {
			if err := lockRow(ctx, tx, "portal", "SELECT 1 FROM portals WHERE org_id = $1 AND id = $2 FOR KEY SHARE",
				j.OrgID, j.PortalID); err != nil {
				return err
			}
		}
		var owner, status string
		err := tx.QueryRow(ctx, "SELECT org_id, status FROM replay_jobs WHERE stream = $1 FOR UPDATE", string(j.Stream)).Scan(&owner, &status)
		vals := []any{string(j.Stream), j.OrgID, nullable(j.PortalID), sqlcodec.ToNS(j.StartAt), sqlcodec.ToNS(j.EndAt), j.Status, j.Total, j.Sent,
			j.Cursor, j.Error, sqlcodec.ToNS(j.CreatedAt), sqlcodec.ToNS(j.UpdatedAt), j.HighSeq}
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			_, err = tx.Exec(ctx, "INSERT INTO replay_jobs ("+replayCols+") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)", vals...)
			if sqlState(err) == "23505" {
				return apperr.New(apperr.Conflict, "a replay job was just created for this stream")
			}
		case err != nil:
			return err
		case owner != j.OrgID:
			return notFound("replay job")
		case store.ActiveReplayStatus(status):
			return apperr.New(apperr.Conflict, "a replay job is %s for this stream", status)
		default:
			if err := keepPastReplayJob(ctx, tx, j.Stream); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE replay_jobs SET org_id = $2, portal_id = $3, start_at = $4, end_at = $5, status = $6,
				total = $7, sent = $8, cursor = $9, error = $10, created_at = $11, updated_at = $12, high_seq = $13
				WHERE stream = $1`, vals...)
		}
		if err != nil {
			return constraint(err, "replay job")
		}
		return notify(ctx, tx, change{K: "r", S: string(j.Stream)})
	})
}

// UpdateReplayJob stores a job's progress and status; with a fence, only
// while the stream's replay lease has its epoch.
func (s *Store) UpdateReplayJob(ctx context.Context, j store.ReplayJob, fence store.Fence) error {
	return s.write(ctx, "update replay job", func(ctx context.Context, tx pgx.Tx) error {
		if err := checkFence(ctx, tx, store.ReplayLease(j.Stream), fence); err != nil {
			return err
		}
		return mustAffect(tx.Exec(ctx, `UPDATE replay_jobs SET start_at = $1, end_at = $2, status = $3, total = $4,
			sent = $5, cursor = $6, error = $7, updated_at = $8, high_seq = $9 WHERE stream = $10 AND org_id = $11`,
			sqlcodec.ToNS(j.StartAt), sqlcodec.ToNS(j.EndAt), j.Status, j.Total, j.Sent, j.Cursor, j.Error, sqlcodec.ToNS(j.UpdatedAt), j.HighSeq,
			string(j.Stream), j.OrgID))("replay job")
	})
}

// ListActiveReplayJobs lists the jobs a restart must resume.
func (s *Store) ListActiveReplayJobs(ctx context.Context) ([]store.ReplayJob, error) {
	out, _, err := list(s, ctx, "list replay jobs",
		"SELECT "+replayCols+" FROM replay_jobs WHERE status IN ('accepted', 'pending', 'running') ORDER BY stream",
		nil, store.Page{}, scanReplayJob)
	return out, err
}
