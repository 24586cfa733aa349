package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

func testMailOutbox(t *testing.T, b Backend) {
	mail := func(t *testing.T, i int, due time.Time) store.QueuedMail {
		return store.QueuedMail{ID: newID(t), To: fmt.Sprintf("dev%d@example.test", i), Subject: "s", Text: "line 1\nline 2",
			CreatedAt: at(0), NextAttempt: due}
	}

	t.Run("ClaimRetryDelete", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		m1, m2, later := mail(t, 1, at(0)), mail(t, 2, at(time.Second)), mail(t, 3, at(time.Hour))
		for _, m := range []store.QueuedMail{m2, m1, later} {
			must(t, s.QueueMail(ctxT(t), m, store.MailLimits{}), "QueueMail")
		}
		got, err := s.ClaimMail(ctxT(t), "a", at(time.Second), time.Minute, 10)
		must(t, err, "ClaimMail")
		if len(got) != 2 || got[0].ID != m1.ID || got[1].ID != m2.ID {
			t.Fatalf("claimed %+v, want the two due mails, oldest first", got)
		}
		if got[0].To != m1.To || got[0].Text != m1.Text || !got[0].CreatedAt.Equal(m1.CreatedAt) {
			t.Fatalf("claimed %+v, want %+v", got[0], m1)
		}
		again, err := s.ClaimMail(ctxT(t), "b", at(2*time.Second), time.Minute, 10)
		must(t, err, "ClaimMail while claimed")
		if len(again) != 0 {
			t.Fatalf("claimed %d mails another sender holds", len(again))
		}
		wantCode(t, s.DeleteMail(ctxT(t), "b", m1.ID), apperr.NotFound, "DeleteMail by a non-owner")
		must(t, s.DeleteMail(ctxT(t), "a", m1.ID), "DeleteMail")
		must(t, s.RetryMail(ctxT(t), "a", m2.ID, at(time.Minute), "421 try later"), "RetryMail")
		wantCode(t, s.RetryMail(ctxT(t), "a", m2.ID, at(time.Minute), "x"), apperr.NotFound, "RetryMail after release")

		got, err = s.ClaimMail(ctxT(t), "b", at(59*time.Second), time.Minute, 10)
		must(t, err, "ClaimMail before the retry is due")
		if len(got) != 0 {
			t.Fatalf("claimed %+v before it was due", got)
		}
		got, err = s.ClaimMail(ctxT(t), "b", at(time.Minute), time.Minute, 10)
		must(t, err, "ClaimMail when the retry is due")
		if len(got) != 1 || got[0].ID != m2.ID || got[0].Attempts != 1 || got[0].LastError != "421 try later" {
			t.Fatalf("claimed %+v, want m2 with one attempt and its error", got)
		}
	})

	t.Run("Limits", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		lim := store.MailLimits{Total: 4, PerRecipient: 2}
		to := func(t *testing.T, addr string) store.QueuedMail {
			m := mail(t, 0, at(0))
			m.To = addr
			return m
		}
		must(t, s.QueueMail(ctxT(t), to(t, "a@example.test"), lim), "first to a")
		must(t, s.QueueMail(ctxT(t), to(t, "a@example.test"), lim), "second to a")
		wantCode(t, s.QueueMail(ctxT(t), to(t, "a@example.test"), lim), apperr.Unavailable, "third to a")
		must(t, s.QueueMail(ctxT(t), to(t, "b@example.test"), lim), "first to b")
		must(t, s.QueueMail(ctxT(t), to(t, "c@example.test"), lim), "first to c")
		err := s.QueueMail(ctxT(t), to(t, "d@example.test"), lim)
		if !errors.Is(err, store.ErrOutboxFull) {
			t.Fatalf("fifth mail: %v, want ErrOutboxFull", err)
		}
		// Sending one frees room; no limit is no limit.
		got, err := s.ClaimMail(ctxT(t), "o", at(0), time.Minute, 1)
		must(t, err, "ClaimMail")
		must(t, s.DeleteMail(ctxT(t), "o", got[0].ID), "DeleteMail")
		must(t, s.QueueMail(ctxT(t), to(t, "d@example.test"), lim), "after one was sent")
		for range 3 {
			must(t, s.QueueMail(ctxT(t), to(t, "a@example.test"), store.MailLimits{}), "unlimited")
		}
	})

	t.Run("ExpiredClaimIsTakenOver", func(t *testing.T) {
		t.Parallel()
		s := b.Open(t)
		m := mail(t, 1, at(0))
		must(t, s.QueueMail(ctxT(t), m, store.MailLimits{}), "QueueMail")
		got, err := s.ClaimMail(ctxT(t), "a", at(0), time.Minute, 1)
		must(t, err, "ClaimMail")
		if len(got) != 1 {
			t.Fatalf("claimed %d, want 1", len(got))
		}
		got, err = s.ClaimMail(ctxT(t), "b", at(time.Minute), time.Minute, 1)
		must(t, err, "ClaimMail after the claim expired")
		if len(got) != 1 {
			t.Fatalf("claimed %d after the claim expired, want 1", len(got))
		}
		wantCode(t, s.DeleteMail(ctxT(t), "a", m.ID), apperr.NotFound, "DeleteMail by the sender whose claim expired")
		must(t, s.DeleteMail(ctxT(t), "b", m.ID), "DeleteMail by the new owner")
	})

	t.Run("SurvivesReopen", func(t *testing.T) {
		t.Parallel()
		sa, sb := b.OpenPair(t)
		m := mail(t, 1, at(0))
		must(t, sa.QueueMail(ctxT(t), m, store.MailLimits{}), "QueueMail")
		must(t, sa.Close(), "Close") // the first process stops
		got, err := sb.ClaimMail(ctxT(t), "b", at(0), time.Minute, 10)
		must(t, err, "ClaimMail on the other handle")
		if len(got) != 1 || got[0].ID != m.ID || got[0].Subject != m.Subject {
			t.Fatalf("after reopening: %+v, want the queued mail", got)
		}
	})

	t.Run("TwoHandlesNeverClaimOneMail", func(t *testing.T) {
		t.Parallel()
		sa, sb := b.OpenPair(t)
		const n = 60
		for i := range n {
			must(t, sa.QueueMail(ctxT(t), mail(t, i, at(0)), store.MailLimits{}), "QueueMail")
		}
		var mu sync.Mutex
		claims := map[string]string{}
		var wg sync.WaitGroup
		for w := range 4 {
			s, owner := sa, fmt.Sprintf("owner-%d", w)
			if w%2 == 1 {
				s = sb
			}
			wg.Go(func() {
				for {
					got, err := s.ClaimMail(ctxT(t), owner, at(time.Second), time.Hour, 3)
					if err != nil {
						t.Error(err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, m := range got {
						if prev, dup := claims[m.ID]; dup {
							t.Errorf("mail %s claimed by %s and %s", m.ID, prev, owner)
						}
						claims[m.ID] = owner
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(claims) != n {
			t.Fatalf("claimed %d distinct mails, want %d", len(claims), n)
		}
	})
}
