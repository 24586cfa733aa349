package portal

import (
	"net/http"
	"strconv"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/content"
	"github.com/sigtrail/sigtrail/internal/store"
)

// assetMaxAge is how long a browser keeps the logo or favicon before
// asking again (with its ETag); the pages link them with the digest in
// the query, so a new image shows on the next page anyway.
const assetMaxAge = 300

// assetLinks puts the portal's logo and favicon on a page, linked with
// their digest so a replaced image is fetched anew. A store failure
// leaves them off: the page still works.
func (s *server) assetLinks(r *http.Request, d *pageData) {
	digests, err := s.st.PortalAssetDigests(r.Context(), info(r).portal.ID)
	if err != nil {
		s.log.Error("portal assets", "trace_id", info(r).trace, "err", err)
		return
	}
	if v, ok := digests[store.AssetLogo]; ok {
		d.Logo = "/assets/" + store.AssetLogo + "?v=" + shortDigest(v)
	}
	if v, ok := digests[store.AssetFavicon]; ok {
		d.Favicon = "/assets/" + store.AssetFavicon + "?v=" + shortDigest(v)
	}
}

func shortDigest(d string) string {
	if len(d) > 16 {
		return d[:16]
	}
	return d
}

// serveAsset serves the portal's logo or favicon with its ETag, under
// the same policy as the management API's raw image.
func (s *server) serveAsset(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := s.st.GetPortalAsset(r.Context(), info(r).portal.ID, kind)
		if apperr.Is(err, apperr.NotFound) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			s.log.Error("portal asset", "kind", kind, "trace_id", info(r).trace, "err", err)
			w.Header().Set("Retry-After", "5")
			http.Error(w, "Service Unavailable: try again shortly", http.StatusServiceUnavailable)
			return
		}
		h := w.Header()
		etag := `"` + a.Digest + `"`
		h.Set("ETag", etag)
		h.Set("Cache-Control", "public, max-age="+strconv.Itoa(assetMaxAge))
		h.Set("Content-Security-Policy", content.ImageCSP)
		if etagMatch(r.Header.Get("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Type", a.ContentType)
		h.Set("Content-Length", strconv.Itoa(len(a.Data)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(a.Data)
		}
	}
}
