package console

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

func TestSweepSessionsDeletesExpiredOnes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	u := e.user("ada@example.com", store.RoleOrgAdmin)
	ctx, cancel := context.WithCancel(context.Background())
	for i, exp := range []time.Duration{time.Minute, 2 * time.Hour} {
		if err := e.st.CreateUserSession(ctx, store.UserSession{Hash: []byte{byte(i)}, UserID: u.ID, OrgID: u.OrgID, CreatedAt: epoch, ExpiresAt: epoch.Add(exp)}); err != nil {
			t.Fatal(err)
		}
	}
	e.clk.Advance(time.Hour)
	done := make(chan struct{})
	go func() { SweepSessions(ctx, e.st, e.clk, time.Hour, slog.New(slog.DiscardHandler)); close(done) }()
	// The first sweep runs at once; wait until it has.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := e.st.GetUserSession(ctx, []byte{0}); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the expired session was not swept")
		}
	}
	cancel()
	<-done
	if _, err := e.st.GetUserSession(context.Background(), []byte{1}); err != nil {
		t.Fatalf("a live session was swept: %v", err)
	}
}
