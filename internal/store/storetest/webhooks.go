package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

func testWebhooks(t *testing.T, b Backend) {
	open := b.Open
	t.Run("PutGetListDelete", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o, other := mkOrg(t, s), mkOrg(t, s)
		p := mkPortal(t, s, o.ID)
		d := mkDestination(t, s, o.ID, "siem")
		foreignDest := mkDestination(t, s, other.ID, "theirs")
		orgSt, portalSt := store.StreamID(o.ID), store.StreamID(p.ID)

		_, err := s.GetWebhook(ctxT(t), orgSt)
		wantCode(t, err, apperr.NotFound, "GetWebhook unconfigured")
		_, err = s.GetWebhookState(ctxT(t), orgSt)
		wantCode(t, err, apperr.NotFound, "GetWebhookState unconfigured")

		wo := store.Webhook{Stream: orgSt, OrgID: o.ID, DestinationID: d.ID, Enabled: true, UpdatedAt: at(0)}
		wp := store.Webhook{Stream: portalSt, OrgID: o.ID, PortalID: p.ID, DestinationID: d.ID, Enabled: false, UpdatedAt: at(time.Second)}
		must(t, s.PutWebhook(ctxT(t), wo), "PutWebhook org")
		must(t, s.PutWebhook(ctxT(t), wp), "PutWebhook portal")
		for _, want := range []store.Webhook{wo, wp} {
			got, err := s.GetWebhook(ctxT(t), want.Stream)
			must(t, err, "GetWebhook")
			if !same(got, want) {
				t.Errorf("GetWebhook = %+v, want %+v", got, want)
			}
		}
		enabled, err := s.ListEnabledWebhooks(ctxT(t))
		must(t, err, "ListEnabledWebhooks")
		if len(enabled) != 1 || !same(enabled[0], wo) {
			t.Errorf("ListEnabledWebhooks = %+v", enabled)
		}
		using, err := s.WebhooksUsingDestination(ctxT(t), o.ID, d.ID)
		must(t, err, "WebhooksUsingDestination")
		if len(using) != 2 {
			t.Errorf("WebhooksUsingDestination = %+v, want both", using)
		}
		if using, _ := s.WebhooksUsingDestination(ctxT(t), other.ID, d.ID); len(using) != 0 {
			t.Errorf("another org sees webhooks using the destination: %+v", using)
		}

		cases := []struct {
			name string
			w    store.Webhook
			code apperr.Code
		}{
			{"another org's destination", store.Webhook{Stream: store.StreamID(newID(t)), OrgID: o.ID, DestinationID: foreignDest.ID, UpdatedAt: at(0)}, apperr.NotFound},
			{"unknown destination", store.Webhook{Stream: store.StreamID(newID(t)), OrgID: o.ID, DestinationID: newID(t), UpdatedAt: at(0)}, apperr.NotFound},
			{"another org's stream", store.Webhook{Stream: orgSt, OrgID: other.ID, UpdatedAt: at(0)}, apperr.NotFound},
		}
		for _, c := range cases {
			wantCode(t, s.PutWebhook(ctxT(t), c.w), c.code, "PutWebhook "+c.name)
		}
		if got, _ := s.GetWebhook(ctxT(t), orgSt); !same(got, wo) {
			t.Errorf("a refused PutWebhook changed the webhook: %+v", got)
		}

		// Replacing keeps the delivery state.
		must(t, s.AdvanceCursor(ctxT(t), orgSt, store.NoFence, 7, nil), "AdvanceCursor")
		wo.Enabled, wo.UpdatedAt = false, at(time.Hour)
		must(t, s.PutWebhook(ctxT(t), wo), "PutWebhook replace")
		if got, _ := s.GetWebhook(ctxT(t), orgSt); !same(got, wo) {
			t.Errorf("after replace: %+v, want %+v", got, wo)
		}
		if st, _ := s.GetWebhookState(ctxT(t), orgSt); st.Cursor != 7 {
			t.Errorf("replace reset the cursor to %d", st.Cursor)
		}

		must(t, s.DeleteWebhook(ctxT(t), orgSt), "DeleteWebhook")
		wantCode(t, s.DeleteWebhook(ctxT(t), orgSt), apperr.NotFound, "DeleteWebhook twice")
		_, err = s.GetWebhookState(ctxT(t), orgSt)
		wantCode(t, err, apperr.NotFound, "GetWebhookState after DeleteWebhook")
		// A webhook created again starts at the stream's end, not the old cursor.
		_, err = s.Append(ctxT(t), []store.NewEntry{entry(orgSt, audit.KindAccess, at(0), "x"), entry(orgSt, audit.KindAccess, at(0), "y")})
		must(t, err, "Append")
		must(t, s.PutWebhook(ctxT(t), wo), "PutWebhook again")
		if st, _ := s.GetWebhookState(ctxT(t), orgSt); st.Cursor != 2 {
			t.Errorf("re-created webhook cursor = %d, want 2", st.Cursor)
		}
	})

	t.Run("NewWebhookStartsAtTheStreamsEnd", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o := mkOrg(t, s)
		st := appendN(t, s, 5, time.Second)
		must(t, s.PutWebhook(ctxT(t), store.Webhook{Stream: st, OrgID: o.ID, Enabled: true, UpdatedAt: at(0)}), "PutWebhook")
		got, err := s.GetWebhookState(ctxT(t), st)
		must(t, err, "GetWebhookState")
		want := store.WebhookState{Stream: st, Cursor: 5, Status: store.StatusActive}
		if !same(got, want) {
			t.Fatalf("new state = %+v, want %+v", got, want)
		}
		empty := store.StreamID(newID(t))
		must(t, s.PutWebhook(ctxT(t), store.Webhook{Stream: empty, OrgID: o.ID, Enabled: true, UpdatedAt: at(0)}), "PutWebhook")
		if got, _ := s.GetWebhookState(ctxT(t), empty); got.Cursor != 0 {
			t.Fatalf("cursor of a webhook on an empty stream = %d", got.Cursor)
		}
	})

	t.Run("AttemptsCursorAndFailedRanges", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o := mkOrg(t, s)
		st := store.StreamID(o.ID)
		must(t, s.PutWebhook(ctxT(t), store.Webhook{Stream: st, OrgID: o.ID, Enabled: true, UpdatedAt: at(0)}), "PutWebhook")
		r := func(a, b int64) *store.SeqRange { return &store.SeqRange{From: a, To: b} }
		type step struct {
			name    string
			do      func() error
			cursor  int64
			status  string
			code    int
			message string
			ranges  []store.SeqRange
		}
		steps := []step{
			{"2xx", func() error {
				return s.RecordAttempt(ctxT(t), st, store.NoFence, store.Attempt{At: at(time.Second), ResponseCode: 200, Message: "OK", OK: true})
			}, 0, store.StatusActive, 200, "OK", nil},
			{"advance", func() error { return s.AdvanceCursor(ctxT(t), st, store.NoFence, 10, nil) }, 10, store.StatusActive, 200, "OK", nil},
			{"never backwards", func() error { return s.AdvanceCursor(ctxT(t), st, store.NoFence, 4, nil) }, 10, store.StatusActive, 200, "OK", nil},
			{"5xx", func() error {
				return s.RecordAttempt(ctxT(t), st, store.NoFence, store.Attempt{At: at(2 * time.Second), ResponseCode: 503, Message: "Service Unavailable"})
			}, 10, store.StatusInactive, 503, "Service Unavailable", nil},
			{"failed batch", func() error { return s.AdvanceCursor(ctxT(t), st, store.NoFence, 20, r(11, 20)) }, 20, store.StatusInactive, 503, "Service Unavailable", []store.SeqRange{{From: 11, To: 20}}},
			{"no answer", func() error {
				return s.RecordAttempt(ctxT(t), st, store.NoFence, store.Attempt{At: at(3 * time.Second), Message: "connection refused"})
			}, 20, store.StatusInactive, 0, "connection refused", []store.SeqRange{{From: 11, To: 20}}},
			{"another failed batch", func() error { return s.AdvanceCursor(ctxT(t), st, store.NoFence, 40, r(31, 40)) }, 40, store.StatusInactive, 0, "connection refused", []store.SeqRange{{From: 11, To: 20}, {From: 31, To: 40}}},
			{"adjacent failure merges", func() error { return s.AdvanceCursor(ctxT(t), st, store.NoFence, 45, r(41, 45)) }, 45, store.StatusInactive, 0, "connection refused", []store.SeqRange{{From: 11, To: 20}, {From: 31, To: 45}}},
			{"failed range with a stale cursor", func() error { return s.AdvanceCursor(ctxT(t), st, store.NoFence, 30, r(21, 25)) }, 45, store.StatusInactive, 0, "connection refused", []store.SeqRange{{From: 11, To: 25}, {From: 31, To: 45}}},
			{"resolve a whole range", func() error {
				return s.ResolveFailedRange(ctxT(t), st, store.NoFence, store.SeqRange{From: 11, To: 25})
			}, 45, store.StatusInactive, 0, "connection refused", []store.SeqRange{{From: 31, To: 45}}},
			{"resolve part of a range", func() error {
				return s.ResolveFailedRange(ctxT(t), st, store.NoFence, store.SeqRange{From: 31, To: 35})
			}, 45, store.StatusInactive, 0, "connection refused", []store.SeqRange{{From: 36, To: 45}}},
			{"recovered", func() error {
				return s.RecordAttempt(ctxT(t), st, store.NoFence, store.Attempt{At: at(4 * time.Second), ResponseCode: 204, OK: true})
			}, 45, store.StatusActive, 204, "", []store.SeqRange{{From: 36, To: 45}}},
			{"resolve the rest", func() error {
				return s.ResolveFailedRange(ctxT(t), st, store.NoFence, store.SeqRange{From: 36, To: 45})
			}, 45, store.StatusActive, 204, "", nil},
		}
		for _, c := range steps {
			must(t, c.do(), c.name)
			got, err := s.GetWebhookState(ctxT(t), st)
			must(t, err, "GetWebhookState")
			if got.Cursor != c.cursor || got.Status != c.status || got.LastResponseCode != c.code ||
				got.LastResponseMessage != c.message || !slices.Equal(got.FailedRanges, c.ranges) {
				t.Fatalf("%s: state %+v, want cursor %d status %s code %d message %q ranges %v",
					c.name, got, c.cursor, c.status, c.code, c.message, c.ranges)
			}
		}
		if got, _ := s.GetWebhookState(ctxT(t), st); !got.LastAttemptAt.Equal(at(4 * time.Second)) {
			t.Errorf("LastAttemptAt = %v", got.LastAttemptAt)
		}

		unknown := store.StreamID(newID(t))
		wantCode(t, s.RecordAttempt(ctxT(t), unknown, store.NoFence, store.Attempt{At: at(0), OK: true}), apperr.NotFound, "RecordAttempt unconfigured")
		wantCode(t, s.AdvanceCursor(ctxT(t), unknown, store.NoFence, 3, nil), apperr.NotFound, "AdvanceCursor unconfigured")
		wantCode(t, s.ResolveFailedRange(ctxT(t), unknown, store.NoFence, store.SeqRange{From: 1, To: 2}), apperr.NotFound, "ResolveFailedRange unconfigured")
		if err := s.AdvanceCursor(ctxT(t), st, store.NoFence, 50, r(9, 3)); err == nil {
			t.Error("AdvanceCursor accepted an inverted range")
		}
		if got, _ := s.GetWebhookState(ctxT(t), st); got.Cursor != 45 {
			t.Errorf("a refused AdvanceCursor moved the cursor to %d", got.Cursor)
		}
	})

	t.Run("RecordLoss", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o := mkOrg(t, s)
		st := store.StreamID(o.ID)
		must(t, s.PutWebhook(ctxT(t), store.Webhook{Stream: st, OrgID: o.ID, Enabled: true, UpdatedAt: at(0)}), "PutWebhook")
		if got, _ := s.GetWebhookState(ctxT(t), st); got.LostEntries != 0 || !got.LastLostAt.IsZero() {
			t.Fatalf("new state has a loss: %+v", got)
		}
		must(t, s.AdvanceCursor(ctxT(t), st, store.NoFence, 20, &store.SeqRange{From: 1, To: 10}), "AdvanceCursor")
		must(t, s.AdvanceCursor(ctxT(t), st, store.NoFence, 20, &store.SeqRange{From: 15, To: 20}), "AdvanceCursor")
		steps := []struct {
			name   string
			loss   store.Loss
			cursor int64
			lost   int64
			lastAt time.Time
			ranges []store.SeqRange
		}{
			// Part of a range: 1-4 held 3 entries that were gone, 1 was sent.
			{"part of a failed range", store.Loss{Range: store.SeqRange{From: 1, To: 4}, Entries: 3, At: at(time.Hour)},
				20, 3, at(time.Hour), []store.SeqRange{{From: 5, To: 10}, {From: 15, To: 20}}},
			{"the rest of it", store.Loss{Range: store.SeqRange{From: 5, To: 10}, Entries: 6, At: at(2 * time.Hour)},
				20, 9, at(2 * time.Hour), []store.SeqRange{{From: 15, To: 20}}},
			// A gap after the cursor (entries deleted before they were
			// read) moves the cursor past it.
			{"after the cursor", store.Loss{Range: store.SeqRange{From: 21, To: 30}, Entries: 10, At: at(3 * time.Hour)},
				30, 19, at(3 * time.Hour), []store.SeqRange{{From: 15, To: 20}}},
		}
		for _, c := range steps {
			must(t, s.RecordLoss(ctxT(t), st, store.NoFence, c.loss), c.name)
			got, err := s.GetWebhookState(ctxT(t), st)
			must(t, err, "GetWebhookState")
			if got.Cursor != c.cursor || got.LostEntries != c.lost || !got.LastLostAt.Equal(c.lastAt) ||
				!slices.Equal(got.FailedRanges, c.ranges) {
				t.Fatalf("%s: state %+v, want cursor %d lost %d at %v ranges %v", c.name, got, c.cursor, c.lost, c.lastAt, c.ranges)
			}
		}
		for _, bad := range []store.Loss{
			{Range: store.SeqRange{From: 15, To: 16}, Entries: 3, At: at(0)}, // more than the range holds
			{Range: store.SeqRange{From: 15, To: 16}, Entries: 0, At: at(0)},
			{Range: store.SeqRange{From: 16, To: 15}, Entries: 1, At: at(0)},
			{Range: store.SeqRange{From: 0, To: 3}, Entries: 1, At: at(0)},
		} {
			wantCode(t, s.RecordLoss(ctxT(t), st, store.NoFence, bad), apperr.Invalid, fmt.Sprintf("RecordLoss %+v", bad))
		}
		if got, _ := s.GetWebhookState(ctxT(t), st); got.LostEntries != 19 || len(got.FailedRanges) != 1 {
			t.Errorf("a refused RecordLoss changed the state: %+v", got)
		}
		wantCode(t, s.RecordLoss(ctxT(t), store.StreamID(newID(t)), store.NoFence,
			store.Loss{Range: store.SeqRange{From: 1, To: 1}, Entries: 1, At: at(0)}), apperr.NotFound, "RecordLoss unconfigured")
		// The loss outlives a replaced webhook, as the cursor does.
		must(t, s.PutWebhook(ctxT(t), store.Webhook{Stream: st, OrgID: o.ID, Enabled: false, UpdatedAt: at(time.Hour)}), "PutWebhook replace")
		if got, _ := s.GetWebhookState(ctxT(t), st); got.LostEntries != 19 {
			t.Errorf("replacing the webhook reset the loss: %+v", got)
		}
	})
}
