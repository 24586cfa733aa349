package signing

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store/sqlite"
)

func openSQLite(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestKeyringOnSQLite: the first key survives a restart, a rotation is
// stored, and the retired key leaves the store after the retention.
func TestKeyringOnSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sigtrail.db")
	clk := clock.NewFake(t0)

	st := openSQLite(t, path)
	k := openKeyring(t, st, clk)
	first := k.ActiveID()
	oldLine := signedLines(t, k)[1]
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = openSQLite(t, path)
	k = openKeyring(t, st, clk)
	if k.ActiveID() != first {
		t.Fatalf("restart made a new key: %q, was %q", k.ActiveID(), first)
	}
	if err := mustVerifier(t, k).VerifyLine(oldLine); err != nil {
		t.Fatalf("line signed before the restart: %v", err)
	}

	clk.Advance(time.Minute)
	kid, err := k.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.ListSigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	switchAt := t0.Add(time.Minute + ActivationDelay)
	if len(stored) != 2 || stored[0].ID != first || !stored[0].RetiredAt.Equal(switchAt) || stored[1].ID != kid ||
		!stored[1].CreatedAt.Equal(switchAt) || !stored[1].RetiredAt.IsZero() {
		t.Fatalf("stored keys after rotation: %+v", stored)
	}
	if err := mustVerifier(t, k).VerifyLine(oldLine); err != nil {
		t.Fatalf("old line after rotation: %v", err)
	}

	clk.Advance(ActivationDelay + week + time.Second)
	if err := k.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if stored, _ := st.ListSigningKeys(ctx); len(stored) != 1 || stored[0].ID != kid {
		t.Fatalf("stored keys after retention: %+v", stored)
	}
	if err := mustVerifier(t, k).VerifyLine(oldLine); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("old line after retention: %v", err)
	}
}

// TestMaintainPicksUpRotation: a second keyring on the same database sees
// the first's rotation at its next reload tick.
func TestMaintainPicksUpRotation(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := openSQLite(t, filepath.Join(t.TempDir(), "sigtrail.db"))
	clk := clock.NewFake(t0)
	a := openKeyring(t, st, clk)
	b := openKeyring(t, st, clk)

	created := clk.TimerCreated()
	done := make(chan error, 1)
	go func() { done <- b.Maintain(ctx) }()
	<-created

	kid, err := a.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Keys()) != 1 {
		t.Fatal("b published the new key before its reload")
	}
	next := clk.TimerCreated()
	clk.Advance(DefaultReloadEvery)
	<-next // b reloaded and armed its next tick
	if ks := b.Keys(); len(ks) != 2 || ks[0].ID != kid {
		t.Fatalf("b publishes %+v after its reload, want the new key first", ks)
	}
	if b.ActiveID() == kid {
		t.Fatal("b signs with the new key before its activation")
	}
	next = clk.TimerCreated()
	clk.Advance(DefaultReloadEvery)
	<-next
	if b.ActiveID() != kid || a.ActiveID() != kid {
		t.Fatalf("after the activation delay: a signs with %q, b with %q, want %q", a.ActiveID(), b.ActiveID(), kid)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Maintain returned %v", err)
	}
}
