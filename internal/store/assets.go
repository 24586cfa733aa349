package store

import (
	"context"
	"time"
)

// PortalAssets keeps a portal's image assets (Kong's logo and favicon).
// Every call names the portal; an asset of another portal is NotFound.
type PortalAssets interface {
	// PutPortalAsset creates or replaces the portal's asset of a.Kind;
	// NotFound on an unknown portal.
	PutPortalAsset(ctx context.Context, a PortalAsset) error
	// GetPortalAsset is NotFound until the asset is put.
	GetPortalAsset(ctx context.Context, portalID, kind string) (PortalAsset, error)
	// PortalAssetDigests returns the digest of each asset the portal has,
	// by kind, without the data: what a page needs to link to them.
	PortalAssetDigests(ctx context.Context, portalID string) (map[string]string, error)
}

// Asset kinds, as Kong's paths name them.
const (
	AssetLogo    = "logo"
	AssetFavicon = "favicon"
)

// PortalAsset is one image of a portal.
type PortalAsset struct {
	PortalID    string
	Kind        string // AssetLogo | AssetFavicon
	ContentType string // image/png, image/jpeg, image/gif, image/x-icon or image/svg+xml
	Data        []byte
	Digest      string // hex SHA-256 of Data, set by the caller; the portal's ETag
	UpdatedAt   time.Time
}
