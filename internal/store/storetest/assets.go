package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

func testPortalAssets(t *testing.T, b Backend) {
	s := b.Open(t)
	o := mkOrg(t, s)
	p, q := mkPortal(t, s, o.ID), mkPortal(t, s, o.ID)

	_, err := s.GetPortalAsset(ctxT(t), p.ID, store.AssetLogo)
	wantCode(t, err, apperr.NotFound, "GetPortalAsset before any")
	digests, err := s.PortalAssetDigests(ctxT(t), p.ID)
	must(t, err, "PortalAssetDigests before any")
	if len(digests) != 0 {
		t.Fatalf("digests before any: %v", digests)
	}

	// Bytes that are not UTF-8 (a zero byte, 0xff) must come back as they went in.
	logo := store.PortalAsset{PortalID: p.ID, Kind: store.AssetLogo, ContentType: "image/png",
		Data: []byte{0x89, 'P', 'N', 'G', 0, 0xff, 1}, Digest: "d1", UpdatedAt: at(time.Second)}
	must(t, s.PutPortalAsset(ctxT(t), logo), "PutPortalAsset logo")
	icon := store.PortalAsset{PortalID: p.ID, Kind: store.AssetFavicon, ContentType: "image/x-icon",
		Data: []byte{0, 0, 1, 0}, Digest: "d2", UpdatedAt: at(time.Second)}
	must(t, s.PutPortalAsset(ctxT(t), icon), "PutPortalAsset favicon")

	got, err := s.GetPortalAsset(ctxT(t), p.ID, store.AssetLogo)
	must(t, err, "GetPortalAsset")
	if got.ContentType != "image/png" || !bytes.Equal(got.Data, logo.Data) || got.Digest != "d1" || !got.UpdatedAt.Equal(logo.UpdatedAt) ||
		got.Kind != store.AssetLogo || got.PortalID != p.ID {
		t.Fatalf("GetPortalAsset = %+v, want %+v", got, logo)
	}
	_, err = s.GetPortalAsset(ctxT(t), q.ID, store.AssetLogo)
	wantCode(t, err, apperr.NotFound, "GetPortalAsset of another portal")

	logo.ContentType, logo.Data, logo.Digest, logo.UpdatedAt = "image/svg+xml", []byte("<svg/>"), "d3", at(time.Minute)
	must(t, s.PutPortalAsset(ctxT(t), logo), "PutPortalAsset replacing")
	got, _ = s.GetPortalAsset(ctxT(t), p.ID, store.AssetLogo)
	if got.ContentType != "image/svg+xml" || string(got.Data) != "<svg/>" || !got.UpdatedAt.Equal(at(time.Minute)) {
		t.Fatalf("replaced: %+v", got)
	}
	digests, err = s.PortalAssetDigests(ctxT(t), p.ID)
	must(t, err, "PortalAssetDigests")
	if len(digests) != 2 || digests[store.AssetLogo] != "d3" || digests[store.AssetFavicon] != "d2" {
		t.Fatalf("digests %v", digests)
	}
	if other, _ := s.PortalAssetDigests(ctxT(t), q.ID); len(other) != 0 {
		t.Fatalf("another portal's digests: %v", other)
	}

	unknown := logo
	unknown.PortalID = newID(t)
	wantCode(t, s.PutPortalAsset(ctxT(t), unknown), apperr.NotFound, "PutPortalAsset of an unknown portal")

	must(t, s.DeletePortal(ctxT(t), o.ID, p.ID), "DeletePortal")
	_, err = s.GetPortalAsset(ctxT(t), p.ID, store.AssetFavicon)
	wantCode(t, err, apperr.NotFound, "GetPortalAsset after the portal is deleted")
}
