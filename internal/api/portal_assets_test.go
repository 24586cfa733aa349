package api

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/content"
	"github.com/sigtrail/sigtrail/internal/store"
)

// A 1x1 PNG and a small SVG, as a portal admin would upload them.
var (
	testPNG = must64("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
	testSVG = []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="#0a0"/></svg>`)
)

func must64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func dataURL(typ string, b []byte) string {
	return "data:" + typ + ";base64," + base64.StdEncoding.EncodeToString(b)
}

// TestPortalAssets: the logo and favicon as Kong's tools put and read
// them; every answer is checked against Kong's spec by the harness.
func TestPortalAssets(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	org, tok := h.org("o")
	_, otherTok := h.org("other")
	readOnly := h.token(org, store.RoleReadOnly, false, 0)
	var p portalJSON
	h.call(http.MethodPost, "/v3/portals", tok, map[string]any{"name": "docs"}).expect(t, http.StatusCreated).decode(t, &p)
	base := "/v3/portals/" + p.ID + "/assets/"

	for _, kind := range []string{"logo", "favicon"} {
		h.call(http.MethodGet, base+kind, tok, nil).problem(t, http.StatusNotFound)
		h.call(http.MethodGet, base+kind+"/raw", tok, nil).problem(t, http.StatusNotFound)
	}

	var got assetJSON
	res := h.call(http.MethodPut, base+"logo", tok, map[string]any{"data": dataURL("image/png", testPNG)}).expect(t, http.StatusOK)
	res.decode(t, &got)
	if got.Data == nil || *got.Data != dataURL("image/png", testPNG) {
		t.Fatalf("put logo answered %s", res.Body)
	}
	// The PUT is audited as an edit of the portal, granted.
	var edit bool
	for _, e := range requestEntries(h.entries(org), res.Header.Get("X-Sigtrail-Trace-Id")) {
		edit = edit || e.Kind == audit.KindAuthorization && e.Action == audit.ActionEdit && e.Granted && e.Name == "Authz."+resPortals
	}
	if !edit {
		t.Fatalf("no authorization entry for the PUT")
	}
	got = assetJSON{}
	h.call(http.MethodGet, base+"logo", readOnly, nil).expect(t, http.StatusOK).decode(t, &got)
	if got.Data == nil || *got.Data != dataURL("image/png", testPNG) {
		t.Fatalf("get logo %v", got.Data)
	}
	raw := h.call(http.MethodGet, base+"logo/raw", readOnly, nil).expect(t, http.StatusOK)
	if !bytes.Equal(raw.Body, testPNG) || raw.Header.Get("Content-Type") != "image/png" || raw.Header.Get("X-Content-Type-Options") != "nosniff" ||
		raw.Header.Get("ETag") == "" {
		t.Fatalf("raw logo: %v %q", raw.Header, raw.Body)
	}

	// An SVG favicon is served raw under a policy that runs nothing.
	h.call(http.MethodPut, base+"favicon", tok, map[string]any{"data": dataURL("image/svg+xml", testSVG)}).expect(t, http.StatusOK)
	raw = h.call(http.MethodGet, base+"favicon/raw", tok, nil).expect(t, http.StatusOK)
	if !bytes.Equal(raw.Body, testSVG) || raw.Header.Get("Content-Type") != "image/svg+xml" ||
		raw.Header.Get("Content-Security-Policy") != content.ImageCSP {
		t.Fatalf("raw favicon: %v %q", raw.Header, raw.Body)
	}
	// The logo was left alone.
	h.call(http.MethodGet, base+"logo", tok, nil).expect(t, http.StatusOK).decode(t, &got)
	if *got.Data != dataURL("image/png", testPNG) {
		t.Fatalf("logo changed by the favicon")
	}

	for name, body := range map[string]any{
		"no data":            map[string]any{},
		"null data":          map[string]any{"data": nil},
		"null body":          nil,
		"extra property":     map[string]any{"data": dataURL("image/png", testPNG), "x": 1},
		"not a data URL":     map[string]any{"data": "https://example.com/logo.png"},
		"webp":               map[string]any{"data": dataURL("image/webp", []byte("RIFF....WEBP"))},
		"not a png":          map[string]any{"data": "data:image/jpeg;base64,bmljZV9sb29raW5nX3BpY3R1cmU="},
		"svg with script":    map[string]any{"data": dataURL("image/svg+xml", []byte(`<svg><script>alert(1)</script></svg>`))},
		"svg with onload":    map[string]any{"data": dataURL("image/svg+xml", []byte(`<svg onload="alert(1)"/>`))},
		"larger than 512KiB": map[string]any{"data": dataURL("image/png", append(append([]byte{}, testPNG...), bytes.Repeat([]byte{0}, content.MaxImageBytes)...))},
	} {
		t.Log(name)
		h.call(http.MethodPut, base+"logo", tok, body).problem(t, http.StatusBadRequest)
	}
	h.call(http.MethodPut, base+"logo", tok, map[string]any{"data": strings.Repeat("A", 1<<20)}).problem(t, http.StatusRequestEntityTooLarge)
	// Nothing refused replaced the logo.
	h.call(http.MethodGet, base+"logo", tok, nil).expect(t, http.StatusOK).decode(t, &got)
	if *got.Data != dataURL("image/png", testPNG) {
		t.Fatalf("a refused PUT changed the logo")
	}

	// A read-only token may not replace; another org sees no portal.
	h.call(http.MethodPut, base+"logo", readOnly, map[string]any{"data": dataURL("image/png", testPNG)}).problem(t, http.StatusForbidden)
	h.call(http.MethodGet, base+"logo", otherTok, nil).problem(t, http.StatusNotFound)
	h.call(http.MethodGet, base+"logo/raw", otherTok, nil).problem(t, http.StatusNotFound)
	h.call(http.MethodPut, base+"logo", otherTok, map[string]any{"data": dataURL("image/png", testPNG)}).problem(t, http.StatusNotFound)
	h.call(http.MethodGet, "/v3/portals/not-a-uuid/assets/logo", tok, nil).problem(t, http.StatusBadRequest)
}
