package signing

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store/sqlite"
)

// These tests run keyrings on two handles of one SQLite file, as two
// replicas sharing one database.

// A key rotated on one replica is published by the other at its next
// reload, and neither signs with it before ActivationDelay: by then every
// replica serves it, so no SIEM meets a line whose key a JWKS lacks.
func TestRotationReachesAnotherReplicaBeforeItSigns(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path := filepath.Join(t.TempDir(), "sigtrail.db")
	clk := clock.NewFake(t0)
	a := openKeyring(t, openSQLite(t, path), clk)
	b := openKeyring(t, openSQLite(t, path), clk)
	old := a.ActiveID()
	if b.ActiveID() != old {
		t.Fatalf("replicas sign with %q and %q", old, b.ActiveID())
	}
	reloaded := clk.TimerCreated()
	done := make(chan error, 1)
	go func() { done <- b.Maintain(ctx) }()
	<-reloaded // b waits for its first reload

	kid, err := a.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(a.JWKS()), kid) || strings.Contains(string(b.JWKS()), kid) {
		t.Fatal("before b's reload: a must publish the new key and b not yet")
	}
	reloaded = clk.TimerCreated()
	clk.Advance(DefaultReloadEvery)
	<-reloaded
	if !strings.Contains(string(b.JWKS()), kid) {
		t.Fatal("b does not publish the new key after its reload")
	}
	clk.Advance(ActivationDelay - DefaultReloadEvery - time.Millisecond)
	if a.ActiveID() != old || b.ActiveID() != old {
		t.Fatalf("just before the activation: a signs with %q, b with %q, want the old %q", a.ActiveID(), b.ActiveID(), old)
	}
	clk.Advance(time.Millisecond)
	if a.ActiveID() != kid || b.ActiveID() != kid {
		t.Fatalf("at the activation: a signs with %q, b with %q, want %q", a.ActiveID(), b.ActiveID(), kid)
	}
	// Each replica's lines verify against the other's key set.
	for _, pair := range [][2]*Keyring{{a, b}, {b, a}} {
		v := mustVerifier(t, pair[1])
		for _, line := range signedLines(t, pair[0]) {
			if err := v.VerifyLine(line); err != nil {
				t.Fatalf("line signed by one replica, verified with the other's JWKS: %v", err)
			}
		}
	}
	cancel()
	<-done
}

// Two replicas starting at once on an empty database end with one active
// key, the same on both, which both publish.
func TestConcurrentFirstStartsAgreeOnOneKey(t *testing.T) {
	t.Parallel()
	for i := range 20 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sigtrail.db")
			clk := clock.NewFake(t0)
			stores := []*sqlite.Store{openSQLite(t, path), openSQLite(t, path)}
			rings := make([]*Keyring, 2)
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for j := range rings {
				wg.Go(func() { rings[j], errs[j] = Open(context.Background(), stores[j], clk, week) })
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if rings[0].ActiveID() != rings[1].ActiveID() {
				t.Fatalf("replicas sign with %q and %q", rings[0].ActiveID(), rings[1].ActiveID())
			}
			stored, err := stores[0].ListSigningKeys(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			active := 0
			for _, k := range stored {
				if k.RetiredAt.IsZero() {
					active++
				}
			}
			if active != 1 {
				t.Fatalf("%d active keys stored: %+v", active, stored)
			}
			for _, k := range rings {
				if !strings.Contains(string(k.JWKS()), rings[0].ActiveID()) {
					t.Fatal("a replica does not publish the key that signs")
				}
			}
		})
	}
}
