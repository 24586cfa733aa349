package storetest

import (
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

func testOverview(t *testing.T, b Backend) {
	t.Run("Summaries", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		o, other := mkOrg(t, s), mkOrg(t, s)
		p, q := mkPortal(t, s, o.ID), mkPortal(t, s, o.ID)
		d := mkDestination(t, s, o.ID, "siem")
		got, err := s.ListWebhookSummaries(ctxT(t), o.ID)
		must(t, err, "ListWebhookSummaries of no webhooks")
		if len(got) != 0 {
			t.Fatalf("ListWebhookSummaries with no webhooks = %+v", got)
		}
		orgSt, pSt, qSt := store.StreamID(o.ID), store.StreamID(p.ID), store.StreamID(q.ID)
		var appends []store.NewEntry
		for i := range 5 {
			appends = append(appends, entry(orgSt, audit.KindAccess, at(time.Duration(i)*time.Second), "o"))
		}
		appends = append(appends, entry(pSt, audit.KindAuthentication, at(0), "p"))
		_, err = s.Append(ctxT(t), appends)
		must(t, err, "Append")
		// The portal webhooks come first by creation here, so the order
		// shown is the store's, not the insertion's.
		for _, w := range []store.Webhook{
			{Stream: qSt, OrgID: o.ID, PortalID: q.ID, Enabled: false, UpdatedAt: at(0)},
			{Stream: pSt, OrgID: o.ID, PortalID: p.ID, DestinationID: d.ID, Enabled: true, UpdatedAt: at(0)},
			{Stream: orgSt, OrgID: o.ID, DestinationID: d.ID, Enabled: true, UpdatedAt: at(0)},
		} {
			must(t, s.PutWebhook(ctxT(t), w), "PutWebhook")
		}
		od := mkDestination(t, s, other.ID, "theirs")
		must(t, s.PutWebhook(ctxT(t), store.Webhook{Stream: store.StreamID(other.ID), OrgID: other.ID, DestinationID: od.ID, Enabled: true, UpdatedAt: at(0)}), "PutWebhook other org")
		// The org webhook was created at the stream's end (5): two more wait.
		_, err = s.Append(ctxT(t), []store.NewEntry{entry(orgSt, audit.KindAccess, at(time.Minute), "o6"), entry(orgSt, audit.KindAccess, at(time.Minute), "o7")})
		must(t, err, "Append more")
		must(t, s.RecordAttempt(ctxT(t), orgSt, store.NoFence, store.Attempt{At: at(2 * time.Minute), ResponseCode: 503, Message: "down"}), "RecordAttempt")
		must(t, s.AdvanceCursor(ctxT(t), orgSt, store.NoFence, 6, &store.SeqRange{From: 6, To: 6}), "AdvanceCursor")
		must(t, s.RecordLoss(ctxT(t), orgSt, store.NoFence, store.Loss{Range: store.SeqRange{From: 3, To: 4}, Entries: 2, At: at(3 * time.Minute)}), "RecordLoss")

		got, err = s.ListWebhookSummaries(ctxT(t), o.ID)
		must(t, err, "ListWebhookSummaries")
		if len(got) != 3 || got[0].Webhook.Stream != orgSt {
			t.Fatalf("ListWebhookSummaries = %+v, want the org webhook then the org's two portal webhooks", got)
		}
		og := got[0]
		if og.LastSeq != 7 || og.State.Cursor != 6 || og.State.Status != store.StatusInactive || og.State.LastResponseCode != 503 ||
			!og.State.LastAttemptAt.Equal(at(2*time.Minute)) || og.State.LostEntries != 2 || !og.State.LastLostAt.Equal(at(3*time.Minute)) ||
			len(og.State.FailedRanges) != 1 || og.State.FailedRanges[0] != (store.SeqRange{From: 6, To: 6}) || og.Webhook.DestinationID != d.ID || !og.Webhook.Enabled ||
			og.DestinationName != d.Name || og.PortalName != "" {
			t.Fatalf("org webhook summary = %+v", og)
		}
		state, err := s.GetWebhookState(ctxT(t), orgSt)
		must(t, err, "GetWebhookState")
		if !same(state, og.State) {
			t.Fatalf("summary state %+v differs from GetWebhookState %+v", og.State, state)
		}
		byStream := map[store.StreamID]store.WebhookSummary{got[1].Webhook.Stream: got[1], got[2].Webhook.Stream: got[2]}
		if ps := byStream[pSt]; ps.LastSeq != 1 || ps.State.Cursor != 1 || ps.Webhook.PortalID != p.ID || len(ps.State.FailedRanges) != 0 || ps.PortalName != p.Name {
			t.Fatalf("portal webhook summary = %+v", ps)
		}
		if qs := byStream[qSt]; qs.LastSeq != 0 || qs.Webhook.DestinationID != "" || qs.Webhook.Enabled || qs.DestinationName != "" || qs.PortalName != q.Name {
			t.Fatalf("unset portal webhook summary = %+v", qs)
		}
	})

	t.Run("Attempts", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		o := mkOrg(t, s)
		d := mkDestination(t, s, o.ID, "siem")
		st := store.StreamID(o.ID)
		must(t, s.PutWebhook(ctxT(t), store.Webhook{Stream: st, OrgID: o.ID, DestinationID: d.ID, Enabled: true, UpdatedAt: at(0)}), "PutWebhook")
		times := []time.Duration{0, time.Minute, 2 * time.Minute, store.AttemptHistory + 90*time.Second}
		for i, dt := range times {
			must(t, s.RecordAttempt(ctxT(t), st, store.NoFence, store.Attempt{At: at(dt), ResponseCode: 200 + i, OK: i != 1}), "RecordAttempt")
		}
		got, err := s.ListAttempts(ctxT(t), st, at(0), 10)
		must(t, err, "ListAttempts")
		// The attempts at 0 and 1 minute are older than AttemptHistory
		// before the last one and were forgotten.
		if len(got) != 2 || !got[0].At.Equal(at(times[3])) || got[0].ResponseCode != 203 || !got[0].OK ||
			!got[1].At.Equal(at(2*time.Minute)) || got[1].ResponseCode != 202 {
			t.Fatalf("ListAttempts = %+v", got)
		}
		got, err = s.ListAttempts(ctxT(t), st, at(3*time.Minute), 10)
		must(t, err, "ListAttempts since")
		if len(got) != 1 {
			t.Fatalf("ListAttempts since 3m = %+v", got)
		}
		got, err = s.ListAttempts(ctxT(t), st, at(0), 1)
		must(t, err, "ListAttempts limit")
		if len(got) != 1 || got[0].ResponseCode != 203 {
			t.Fatalf("ListAttempts limit 1 = %+v", got)
		}
		must(t, s.DeleteWebhook(ctxT(t), st), "DeleteWebhook")
		got, err = s.ListAttempts(ctxT(t), st, at(0), 10)
		must(t, err, "ListAttempts after DeleteWebhook")
		if len(got) != 0 {
			t.Fatalf("attempts outlived their webhook: %+v", got)
		}
	})

	t.Run("PastReplayJobs", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		o, other := mkOrg(t, s), mkOrg(t, s)
		st := store.StreamID(o.ID)
		job := func(i int, status string) store.ReplayJob {
			return store.ReplayJob{Stream: st, OrgID: o.ID, StartAt: at(-time.Hour), EndAt: at(time.Duration(i) * time.Second), Status: status,
				Total: int64(i), Sent: int64(i), CreatedAt: at(time.Duration(i) * time.Second), UpdatedAt: at(time.Duration(i) * time.Second)}
		}
		first := job(1, store.JobCompleted)
		must(t, s.PutReplayJob(ctxT(t), first), "PutReplayJob 1")
		got, err := s.ListPastReplayJobs(ctxT(t), o.ID, st)
		must(t, err, "ListPastReplayJobs")
		if len(got) != 0 {
			t.Fatalf("past jobs before any was replaced: %+v", got)
		}
		second := job(2, store.JobAccepted)
		must(t, s.PutReplayJob(ctxT(t), second), "PutReplayJob 2")
		// Refused while the second is active: nothing is kept.
		wantCode(t, s.PutReplayJob(ctxT(t), job(3, store.JobAccepted)), apperr.Conflict, "PutReplayJob while one is active")
		second.Status = store.JobFailed
		second.Error = "destination down"
		must(t, s.UpdateReplayJob(ctxT(t), second, store.NoFence), "UpdateReplayJob")
		must(t, s.PutReplayJob(ctxT(t), job(4, store.JobAccepted)), "PutReplayJob 4")
		got, err = s.ListPastReplayJobs(ctxT(t), o.ID, st)
		must(t, err, "ListPastReplayJobs")
		if len(got) != 2 || !same(got[0], second) || !same(got[1], first) {
			t.Fatalf("past jobs = %+v, want the failed second then the first", got)
		}
		if got, _ := s.ListPastReplayJobs(ctxT(t), other.ID, st); len(got) != 0 {
			t.Fatalf("another org sees past jobs: %+v", got)
		}
		for i := range store.PastReplayJobs + 3 {
			done := job(5+i, store.JobCompleted)
			cur := job(4+i, store.JobCompleted)
			must(t, s.UpdateReplayJob(ctxT(t), cur, store.NoFence), "UpdateReplayJob")
			must(t, s.PutReplayJob(ctxT(t), done), "PutReplayJob")
		}
		got, err = s.ListPastReplayJobs(ctxT(t), o.ID, st)
		must(t, err, "ListPastReplayJobs")
		if len(got) != store.PastReplayJobs || got[0].Total != int64(store.PastReplayJobs+6) {
			t.Fatalf("%d past jobs kept (newest %d), want the last %d", len(got), got[0].Total, store.PastReplayJobs)
		}
	})
}
