package portal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/sigtrail/sigtrail/internal/content"
	"github.com/sigtrail/sigtrail/internal/store"
)

// testLogo is a real 24x12 PNG, so a browser can decode it.
func testLogo(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 24, 12))
	for x := range 24 {
		for y := range 12 {
			img.Set(x, y, color.RGBA{R: 10, G: 125, B: 51, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var testFavicon = []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><circle cx="8" cy="8" r="7" fill="#0a7d33"/></svg>`)

// putAsset stores an image as the management API would.
func (e *testEnv) putAsset(kind, contentType string, data []byte) string {
	e.t.Helper()
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	a := store.PortalAsset{PortalID: e.portal.ID, Kind: kind, ContentType: contentType, Data: data, Digest: digest, UpdatedAt: e.clk.Now()}
	if err := e.st.PutPortalAsset(context.Background(), a); err != nil {
		e.t.Fatal(err)
	}
	return digest
}

// assetsFixture gives the test portal a PNG logo and an SVG favicon.
func (e *testEnv) assetsFixture() (logo []byte, logoDigest string) {
	e.t.Helper()
	logo = testLogo(e.t)
	logoDigest = e.putAsset(store.AssetLogo, "image/png", logo)
	e.putAsset(store.AssetFavicon, "image/svg+xml", testFavicon)
	return logo, logoDigest
}

func TestPortalAssetsOnPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	anon := e.newClient()

	// Before any asset: no logo, no icon, and nothing at their paths.
	page := e.do(anon, http.MethodGet, "/login", nil, nil)
	if strings.Contains(string(page.body), `id="logo"`) || strings.Contains(string(page.body), `rel="icon"`) {
		t.Fatalf("a portal without assets shows them: %s", page.body)
	}
	for _, p := range []string{"/assets/logo", "/assets/favicon"} {
		if r := e.do(anon, http.MethodGet, p, nil, nil); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s before any: %d", p, r.StatusCode)
		}
	}

	logo, digest := e.assetsFixture()
	for _, path := range []string{"/", "/login", "/signup", "/nothing-here"} {
		body := string(e.do(anon, http.MethodGet, path, nil, nil).body)
		if !strings.Contains(body, `<img id="logo" src="/assets/logo?v=`+digest[:16]+`" alt="">`) ||
			!strings.Contains(body, `<link rel="icon" href="/assets/favicon?v=`) {
			t.Errorf("%s lacks the logo or favicon: %s", path, body)
		}
	}
	// The pages' policy allows images from the portal itself only.
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self'") {
		t.Errorf("page CSP %q", csp)
	}

	r := e.do(anon, http.MethodGet, "/assets/logo?v="+digest[:16], nil, nil)
	etag := r.Header.Get("ETag")
	if r.StatusCode != http.StatusOK || !bytes.Equal(r.body, logo) || r.Header.Get("Content-Type") != "image/png" ||
		etag != `"`+digest+`"` || r.Header.Get("Cache-Control") != "public, max-age=300" ||
		r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Content-Security-Policy") != content.ImageCSP {
		t.Fatalf("logo: %d %v", r.StatusCode, r.Header)
	}
	for _, tc := range []struct {
		ifNoneMatch string
		status      int
	}{
		{etag, http.StatusNotModified},
		{"W/" + etag, http.StatusNotModified},
		{`"other", ` + etag, http.StatusNotModified},
		{"*", http.StatusNotModified},
		{`"other"`, http.StatusOK},
	} {
		r := e.do(anon, http.MethodGet, "/assets/logo", nil, map[string]string{"If-None-Match": tc.ifNoneMatch})
		if r.StatusCode != tc.status || (tc.status == http.StatusNotModified && len(r.body) != 0) {
			t.Errorf("If-None-Match %s: %d with %d bytes, want %d", tc.ifNoneMatch, r.StatusCode, len(r.body), tc.status)
		}
	}
	icon := e.do(anon, http.MethodGet, "/assets/favicon", nil, nil)
	if icon.StatusCode != http.StatusOK || !bytes.Equal(icon.body, testFavicon) || icon.Header.Get("Content-Type") != "image/svg+xml" ||
		icon.Header.Get("Content-Security-Policy") != content.ImageCSP {
		t.Fatalf("favicon: %d %v", icon.StatusCode, icon.Header)
	}

	// A replaced logo is linked under its new digest.
	newDigest := e.putAsset(store.AssetLogo, "image/png", append(testLogo(t), 0))
	if body := string(e.do(anon, http.MethodGet, "/login", nil, nil).body); !strings.Contains(body, "/assets/logo?v="+newDigest[:16]) {
		t.Errorf("the page links the old logo: %s", body)
	}
	if r := e.do(anon, http.MethodGet, "/assets/logo", nil, map[string]string{"If-None-Match": etag}); r.StatusCode != http.StatusOK {
		t.Errorf("the old ETag still matches: %d", r.StatusCode)
	}
}
