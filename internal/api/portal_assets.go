package api

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/content"
	"github.com/sigtrail/sigtrail/internal/store"
)

// portalAssetRoutes are Kong's portal assets: the logo and favicon, put
// and read as data URLs, or read raw.
func (s *server) portalAssetRoutes() []route {
	var out []route
	for _, kind := range []string{store.AssetLogo, store.AssetFavicon} {
		path := "/v3/portals/{portalId}/assets/" + kind
		out = append(out,
			route{method: http.MethodGet, path: path, resource: resPortals, action: audit.ActionRetrieve, roles: portalReaders(), handle: s.getAsset(kind)},
			route{method: http.MethodPut, path: path, resource: resPortals, action: audit.ActionEdit, roles: portalWriters(), handle: s.putAsset(kind)},
			route{method: http.MethodGet, path: path + "/raw", resource: resPortals, action: audit.ActionRetrieve, roles: portalReaders(), handle: s.getAssetRaw(kind)},
		)
	}
	return out
}

// assetJSON is Kong's PortalAssetResponse and ReplacePortalImageAsset.
type assetJSON struct {
	Data *string `json:"data"`
}

func (s *server) getAsset(kind string) func(c *call) error {
	return func(c *call) error {
		a, err := s.asset(c, kind)
		if err != nil {
			return err
		}
		url := content.Image{ContentType: a.ContentType, Data: a.Data}.DataURL()
		return c.json(http.StatusOK, assetJSON{Data: &url})
	}
}

func (s *server) putAsset(kind string) func(c *call) error {
	return func(c *call) error {
		p, err := s.portal(c)
		if err != nil {
			return err
		}
		var b assetJSON
		if err := c.decode(&b); err != nil {
			return err
		}
		if b.Data == nil {
			return apperr.InvalidField("body", "data", "required", "data is required")
		}
		img, err := content.ParseImageDataURL(*b.Data)
		if err != nil {
			return apperr.InvalidField("body", "data", "invalid", err.Error())
		}
		sum := sha256.Sum256(img.Data)
		a := store.PortalAsset{PortalID: p.ID, Kind: kind, ContentType: img.ContentType, Data: img.Data,
			Digest: hex.EncodeToString(sum[:]), UpdatedAt: c.now()}
		if err := s.st.PutPortalAsset(c.ctx(), a); err != nil {
			return err
		}
		url := img.DataURL()
		return c.json(http.StatusOK, assetJSON{Data: &url})
	}
}

// getAssetRaw answers with the image itself, never sniffed, and an SVG
// confined by content.ImageCSP.
func (s *server) getAssetRaw(kind string) func(c *call) error {
	return func(c *call) error {
		a, err := s.asset(c, kind)
		if err != nil {
			return err
		}
		h := c.w.Header()
		h.Set("Content-Type", a.ContentType)
		h.Set("Content-Length", strconv.Itoa(len(a.Data)))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", content.ImageCSP)
		h.Set("ETag", `"`+a.Digest+`"`)
		c.w.WriteHeader(http.StatusOK)
		_, err = c.w.Write(a.Data)
		return err
	}
}

// asset reads the portal's asset; a portal without one answers 404.
func (s *server) asset(c *call, kind string) (store.PortalAsset, error) {
	p, err := s.portal(c)
	if err != nil {
		return store.PortalAsset{}, err
	}
	a, err := s.st.GetPortalAsset(c.ctx(), p.ID, kind)
	if apperr.Is(err, apperr.NotFound) {
		return a, apperr.New(apperr.NotFound, "Portal %s has no %s", p.ID, kind)
	}
	return a, err
}
