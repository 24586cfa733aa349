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
