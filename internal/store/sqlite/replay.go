package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

const replayCols = "stream, org_id, portal_id, start_at, end_at, status, total, sent, cursor, error, created_at, updated_at, high_seq"

func scanReplayJob(sc interface{ Scan(...any) error }) (store.ReplayJob, error) {
	var j store.ReplayJob
	var stream string
	var portal sql.NullString
	var start, end, created, updated int64
	err := sc.Scan(&stream, &j.OrgID, &portal, &start, &end, &j.Status, &j.Total, &j.Sent, &j.Cursor, &j.Error, &created, &updated, &j.HighSeq)
	j.Stream = store.StreamID(stream)
	j.PortalID = portal.String
	j.StartAt = sqlcodec.FromNS(start)
	j.EndAt = sqlcodec.FromNS(end)
	j.CreatedAt = sqlcodec.FromNS(created)
	j.UpdatedAt = sqlcodec.FromNS(updated)
	return j, err
}

// GetReplayJob returns the stream's job; NotFound means unconfigured.
func (s *Store) GetReplayJob(ctx context.Context, stream store.StreamID) (store.ReplayJob, error) {
	j, err := scanReplayJob(s.rdb.QueryRowContext(ctx, "SELECT "+replayCols+" FROM replay_jobs WHERE stream = ?", string(stream)))
	if errors.Is(err, sql.ErrNoRows) {
		return store.ReplayJob{}, notFound("replay job")
	}
	return j, s.internal(err, "get replay job")
}

// PutReplayJob replaces the stream's job, unless the current one is still
// accepted, pending or running (Conflict); check and write are one
// transaction on the single writer, so two requests cannot both win.
func (s *Store) PutReplayJob(ctx context.Context, j store.ReplayJob) error {
	if j.Stream == "" || j.OrgID == "" {
		return apperr.New(apperr.Invalid, "replay job needs a stream and an org")
	}
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		if err := belongs(ctx, q, "portals", j.OrgID, j.PortalID, "portal"); err != nil {
			return err
		}
		var owner, status string
		err := q.QueryRowContext(ctx, "SELECT org_id, status FROM replay_jobs WHERE stream = ?", string(j.Stream)).Scan(&owner, &status)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case owner != j.OrgID:
			return notFound("replay job")
		case store.ActiveReplayStatus(status):
			return apperr.New(apperr.Conflict, "a replay job is %s for this stream", status)
		default:
			if err := keepPastReplayJob(ctx, q, j.Stream); err != nil {
				return err
			}
		}
		_, err = q.ExecContext(ctx, "INSERT OR REPLACE INTO replay_jobs ("+replayCols+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
			string(j.Stream), j.OrgID, nullable(j.PortalID), sqlcodec.ToNS(j.StartAt), sqlcodec.ToNS(j.EndAt), j.Status, j.Total, j.Sent,
			j.Cursor, j.Error, sqlcodec.ToNS(j.CreatedAt), sqlcodec.ToNS(j.UpdatedAt), j.HighSeq)
		return constraint(err, "replay job")
	})
	return s.internal(err, "put replay job")
}

// UpdateReplayJob stores a job's progress and status.
func (s *Store) UpdateReplayJob(ctx context.Context, j store.ReplayJob, fence store.Fence) error {
	err := s.w.do(ctx, func(ctx context.Context, q querier) error {
		if err := checkFence(ctx, q, store.ReplayLease(j.Stream), fence); err != nil {
			return err
		}
		return mustAffect(q.ExecContext(ctx, `UPDATE replay_jobs SET start_at = ?, end_at = ?, status = ?, total = ?,
			sent = ?, cursor = ?, error = ?, updated_at = ?, high_seq = ? WHERE stream = ? AND org_id = ?`,
			sqlcodec.ToNS(j.StartAt), sqlcodec.ToNS(j.EndAt), j.Status, j.Total, j.Sent, j.Cursor, j.Error, sqlcodec.ToNS(j.UpdatedAt), j.HighSeq,
			string(j.Stream), j.OrgID))("replay job")
	})
	return s.internal(err, "update replay job")
}

// ListActiveReplayJobs lists the jobs a restart must resume.
func (s *Store) ListActiveReplayJobs(ctx context.Context) ([]store.ReplayJob, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+replayCols+" FROM replay_jobs WHERE status IN (?, ?, ?) ORDER BY stream",
		store.JobAccepted, store.JobPending, store.JobRunning)
	if err != nil {
		return nil, s.internal(err, "list replay jobs")
	}
	out, err := collectRows(rows, scanReplayJob)
	return out, s.internal(err, "list replay jobs")
}
