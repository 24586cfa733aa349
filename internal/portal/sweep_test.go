package portal

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

func TestSweepTokensDeletesExpiredOnes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.signUp("jane@example.com")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	now := e.clk.Now()
	put := func(name string, expires time.Time) []byte {
		h := tokenHash(name)
		if err := e.st.CreateDeveloperToken(ctx, store.DeveloperToken{Hash: h, DeveloperID: d.ID, PortalID: d.PortalID,
			Purpose: store.PurposeSession, CreatedAt: now, ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
		return h
	}
	exists := func(h []byte) bool {
		_, err := e.st.GetDeveloperToken(ctx, h)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	expired, live := put("expired", now.Add(-time.Second)), put("live", now.Add(time.Hour))

	swept := e.clk.TimerCreated() // the first sweep runs before the first wait
	done := make(chan struct{})
	go func() {
		defer close(done)
		SweepTokens(ctx, e.st, e.clk, 10*time.Minute, slog.New(slog.DiscardHandler))
	}()
	<-swept
	if exists(expired) || !exists(live) {
		t.Fatalf("after the first sweep: expired %v, live %v", exists(expired), exists(live))
	}
	swept = e.clk.TimerCreated()
	e.clk.Advance(time.Hour)
	<-swept
	if exists(live) {
		t.Error("the token that expired meanwhile survived the second sweep")
	}
	cancel()
	<-done
}

// bucketSpy reports how many idle rate-limit buckets each sweep deleted.
type bucketSpy struct {
	Sweeper
	deleted chan int
}

func (s bucketSpy) DeleteIdleRateBuckets(ctx context.Context, now time.Time) (int, error) {
	n, err := s.Sweeper.DeleteIdleRateBuckets(ctx, now)
	s.deleted <- n
	return n, err
}

// The sweep forgets a client's rate-limit bucket once it is full again,
// and not before (a bucket still counting must not be reset).
func TestSweepTokensForgetsIdleRateBuckets(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config, _ *store.Portal) { c.RateLimit = RateLimit{Every: time.Hour, Burst: 2} })
	e.login(e.client, "nobody@example.com", "x") // one token of two taken: full again in an hour
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	spy := bucketSpy{Sweeper: e.st, deleted: make(chan int)}
	done := make(chan struct{})
	waiting := e.clk.TimerCreated()
	go func() {
		defer close(done)
		SweepTokens(ctx, spy, e.clk, 10*time.Minute, slog.New(slog.DiscardHandler))
	}()
	if n := <-spy.deleted; n != 0 {
		t.Fatalf("first sweep deleted %d buckets, want 0: the bucket is still counting", n)
	}
	<-waiting
	e.clk.Advance(time.Hour)
	// The client's bucket, and the one the unknown address's attempt
	// wrote to cost what a wrong password costs (timing.go).
	if n := <-spy.deleted; n != 2 {
		t.Fatalf("an hour later the sweep deleted %d buckets, want 2", n)
	}
	cancel()
	<-done
}
