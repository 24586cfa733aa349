package postgres

import (
	"context"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/sqlcodec"
)

// recordAttemptHistory keeps a in the attempt history and forgets attempts
// older than store.AttemptHistory, in the caller's transaction.
func recordAttemptHistory(ctx context.Context, q querier, stream store.StreamID, a store.Attempt) error {
	if _, err := q.Exec(ctx, "INSERT INTO webhook_attempts (stream, at, response_code, ok) VALUES ($1,$2,$3,$4)",
		string(stream), sqlcodec.ToNS(a.At), a.ResponseCode, a.OK); err != nil {
		return err
	}
	_, err := q.Exec(ctx, "DELETE FROM webhook_attempts WHERE stream = $1 AND at < $2",
		string(stream), sqlcodec.ToNS(a.At.Add(-store.AttemptHistory)))
	return err
}

// ListWebhookSummaries reads the org's webhooks with their state and stream
// end in one query and their failed ranges in another.
func (s *Store) ListWebhookSummaries(ctx context.Context, orgID string) ([]store.WebhookSummary, error) {
	var out []store.WebhookSummary
	err := s.read(ctx, "list webhook summaries", func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, `SELECT w.stream, w.org_id, w.portal_id, w.destination_id, w.enabled, w.updated_at,
			COALESCE(s.cursor, 0), COALESCE(s.status, ''), COALESCE(s.last_attempt_at, 0), COALESCE(s.last_response_code, 0),
			COALESCE(s.last_response_message, ''), COALESCE(s.lost_entries, 0), COALESCE(s.last_lost_at, 0), COALESCE(st.last_seq, 0),
		COALESCE(p.name, ''), COALESCE(d.name, '')
			FROM webhooks w LEFT JOIN webhook_state s ON s.stream = w.stream LEFT JOIN streams st ON st.stream = w.stream
		LEFT JOIN portals p ON p.id = w.portal_id LEFT JOIN destinations d ON d.id = w.destination_id
			WHERE w.org_id = $1 ORDER BY w.portal_id IS NOT NULL, w.stream`, orgID)
		out, err = collect(rows, err, func(sc scanner) (store.WebhookSummary, error) {
			var x store.WebhookSummary
			var stream string
			var portal, dest *string
			var updated, attempt, lostAt int64
			err := sc.Scan(&stream, &x.Webhook.OrgID, &portal, &dest, &x.Webhook.Enabled, &updated,
				&x.State.Cursor, &x.State.Status, &attempt, &x.State.LastResponseCode, &x.State.LastResponseMessage,
				&x.State.LostEntries, &lostAt, &x.LastSeq, &x.PortalName, &x.DestinationName)
			x.Webhook.Stream, x.State.Stream = store.StreamID(stream), store.StreamID(stream)
			if portal != nil {
				x.Webhook.PortalID = *portal
			}
			if dest != nil {
				x.Webhook.DestinationID = *dest
			}
			x.Webhook.UpdatedAt = sqlcodec.FromNS(updated)
			x.State.LastAttemptAt, x.State.LastLostAt = sqlcodec.FromNS(attempt), sqlcodec.FromNS(lostAt)
			return x, err
		})
		if err != nil {
			return err
		}
		type streamRange struct {
			stream string
			r      store.SeqRange
		}
		rows, err = q.Query(ctx, `SELECT f.stream, f.from_seq, f.to_seq FROM failed_ranges f
			JOIN webhooks w ON w.stream = f.stream WHERE w.org_id = $1 ORDER BY f.stream, f.from_seq`, orgID)
		ranges, err := collect(rows, err, func(sc scanner) (streamRange, error) {
			var x streamRange
			return x, sc.Scan(&x.stream, &x.r.From, &x.r.To)
		})
		if err != nil {
			return err
		}
		at := make(map[string]int, len(out))
		for i := range out {
			at[string(out[i].Webhook.Stream)] = i
		}
		for _, x := range ranges {
			if i, ok := at[x.stream]; ok {
				out[i].State.FailedRanges = append(out[i].State.FailedRanges, x.r)
			}
		}
		return nil
	})
	return out, err
}

// ListAttempts lists the stream's attempts since a time, newest first.
func (s *Store) ListAttempts(ctx context.Context, stream store.StreamID, since time.Time, limit int) ([]store.Attempt, error) {
	var out []store.Attempt
	err := s.read(ctx, "list attempts", func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, `SELECT at, response_code, ok FROM webhook_attempts WHERE stream = $1 AND at >= $2
			ORDER BY at DESC LIMIT $3`, string(stream), sqlcodec.ToNS(since), limit)
		out, err = collect(rows, err, func(sc scanner) (store.Attempt, error) {
			var a store.Attempt
			var t int64
			err := sc.Scan(&t, &a.ResponseCode, &a.OK)
			a.At = sqlcodec.FromNS(t)
			return a, err
		})
		return err
	})
	return out, err
}

// keepPastReplayJob copies the stream's job, about to be replaced, into the
// history and forgets all but the last store.PastReplayJobs, in the
// caller's transaction.
func keepPastReplayJob(ctx context.Context, q querier, stream store.StreamID) error {
	if _, err := q.Exec(ctx, "INSERT INTO replay_job_history ("+replayCols+") SELECT "+replayCols+
		" FROM replay_jobs WHERE stream = $1", string(stream)); err != nil {
		return err
	}
	_, err := q.Exec(ctx, `DELETE FROM replay_job_history WHERE stream = $1 AND id <= (SELECT id FROM replay_job_history
		WHERE stream = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)`, string(stream), store.PastReplayJobs)
	return err
}

// ListPastReplayJobs lists the replaced jobs of the stream, newest first.
func (s *Store) ListPastReplayJobs(ctx context.Context, orgID string, stream store.StreamID) ([]store.ReplayJob, error) {
	var out []store.ReplayJob
	err := s.read(ctx, "list past replay jobs", func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, "SELECT "+replayCols+" FROM replay_job_history WHERE stream = $1 AND org_id = $2 ORDER BY id DESC",
			string(stream), orgID)
		out, err = collect(rows, err, scanReplayJob)
		return err
	})
	return out, err
}
