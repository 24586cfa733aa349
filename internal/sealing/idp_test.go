package sealing

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

// An identity provider's client secret is sealed on disk, opened on the
// way out, and refused with the wrong key file.
func TestSealedIdentityProviderSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sigtrail.db")
	inner := openSQLite(t, path)
	k1, k2 := newKey(t), newKey(t)
	st := Wrap(inner, mustKeys(t, k1), quiet)
	now := time.Now().UTC()
	const portalID, idpID = "0193d4a8-9b8e-7c4f-8a4e-0000000000p1", "0193d4a8-9b8e-7c4f-8a4e-0000000000i1"
	if err := st.CreateOrg(ctx, store.Org{ID: orgID, Name: "o", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreatePortal(ctx, store.Portal{ID: portalID, OrgID: orgID, Name: "p", DisplayName: "p", DefaultDomain: "p.example",
		DefaultAPIVisibility: "public", DefaultPageVisibility: "public", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	p := store.IdentityProvider{ID: idpID, PortalID: portalID, OrgID: orgID, Type: store.IdPTypeOIDC, IssuerURL: "https://idp.example",
		ClientID: "c", ClientSecret: "idp-client-SECRET-3", CreatedAt: now, UpdatedAt: now}
	if err := st.CreateIdentityProvider(ctx, p); err != nil {
		t.Fatal(err)
	}
	p.ClientSecret = "idp-client-SECRET-4"
	if err := st.UpdateIdentityProvider(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetIdentityProvider(ctx, portalID, idpID)
	if err != nil || got.ClientSecret != "idp-client-SECRET-4" {
		t.Fatalf("GetIdentityProvider through the layer: %q %v", got.ClientSecret, err)
	}
	list, err := st.ListIdentityProviders(ctx, portalID)
	if err != nil || len(list) != 1 || list[0].ClientSecret != "idp-client-SECRET-4" {
		t.Fatalf("ListIdentityProviders through the layer: %+v %v", list, err)
	}
	raw, err := inner.GetIdentityProvider(ctx, portalID, idpID)
	if err != nil || !IsSealed(raw.ClientSecret) {
		t.Fatalf("stored client secret %q is not sealed (%v)", raw.ClientSecret, err)
	}
	if err := inner.Close(); err != nil {
		t.Fatal(err)
	}
	if disk := rawFiles(t, path); bytes.Contains(disk, []byte("idp-client-SECRET")) {
		t.Fatal("the database file holds the client secret in plaintext")
	}
	again := openSQLite(t, path)
	defer again.Close()
	if _, err := Wrap(again, mustKeys(t, newKey(t)), quiet).GetIdentityProvider(ctx, portalID, idpID); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("wrong key file: %v", err)
	}

	// Reseal moves the secret to a new current key (the old one still
	// opens it) and leaves it alone once it is current.
	rotated := mustKeys(t, k2, k1)
	n, err := Reseal(ctx, again, rotated)
	if err != nil || n.IdentityProviders != 1 {
		t.Fatalf("Reseal: %+v %v", n, err)
	}
	if got, err := Wrap(again, mustKeys(t, k2), quiet).GetIdentityProvider(ctx, portalID, idpID); err != nil || got.ClientSecret != "idp-client-SECRET-4" {
		t.Fatalf("after Reseal, with the new key alone: %q %v", got.ClientSecret, err)
	}
	if n, err = Reseal(ctx, again, rotated); err != nil || n.IdentityProviders != 0 {
		t.Fatalf("second Reseal: %+v %v", n, err)
	}
}
