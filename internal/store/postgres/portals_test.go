package postgres

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/postgres/pgtest"
)

// TestDeletePortalTakesTheDomainLock: deleting a portal frees its
// verified custom domain (the other claims are due at once), so it waits
// for a custom domain check being recorded, as UpdatePortal does; else
// the check, still seeing the name held, could set a waiting claim's
// next check back after the delete made it due.
func TestDeletePortalTakesTheDomainLock(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	s := openURL(t, url, Options{})
	ctx := t.Context()
	now := time.Unix(1000, 0)
	if err := s.CreateOrg(ctx, store.Org{ID: "org-1", Name: "acme", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	p := store.Portal{ID: "portal-1", OrgID: "org-1", Name: "acme", DisplayName: "Acme", DefaultAPIVisibility: "public",
		DefaultPageVisibility: "public", DefaultDomain: "acme.portals.test", CreatedAt: now, UpdatedAt: now}
	if err := s.CreatePortal(ctx, p); err != nil {
		t.Fatal(err)
	}
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if err := lockDomains(ctx, tx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.DeletePortal(ctx, "org-1", "portal-1") }()
	select {
	case err := <-done:
		t.Fatalf("DeletePortal finished while another transaction held the domain lock: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("DeletePortal: %v", err)
	}
}
