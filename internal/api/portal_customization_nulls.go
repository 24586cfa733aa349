package api

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/sigtrail/sigtrail/internal/store"
)

// Kong's PATCH merges properties as a JSON merge patch (RFC 7386): a
// property sent as null is removed, at any depth, while an absent one is
// kept. The decoded body cannot tell null from absent, so the raw body is
// kept beside it (teeBody) and read again for its nulls.

// teeBody copies what c.decode reads of the body into the returned buffer.
func teeBody(c *call) *bytes.Buffer {
	var buf bytes.Buffer
	c.r.Body = struct {
		io.Reader
		io.Closer
	}{io.TeeReader(c.r.Body, &buf), c.r.Body}
	return &buf
}

// nullPaths are the properties a merge patch sets to null, as nested
// maps: a key whose value is nil was null; a map names nulls inside it.
type nullPaths map[string]nullPaths

func findNulls(body []byte) nullPaths {
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return nil
	}
	out := nullPaths{}
	for k, v := range obj {
		v = bytes.TrimSpace(v)
		switch {
		case bytes.Equal(v, []byte("null")):
			out[k] = nil
		case len(v) > 0 && v[0] == '{':
			if inner := findNulls(v); len(inner) > 0 {
				out[k] = inner
			}
		}
	}
	return out
}

// null reports whether the patch set key to null.
func (n nullPaths) null(key string) bool {
	v, ok := n[key]
	return ok && v == nil
}

// clearNulls removes from the merged customization what the patch set to
// null; an object left empty by it is kept as sent ({}).
func clearNulls(cu store.PortalCustomization, n nullPaths) store.PortalCustomization {
	if len(n) == 0 {
		return cu
	}
	if n.null("theme") {
		cu.Theme = nil
	} else if t := n["theme"]; t != nil && cu.Theme != nil {
		th := *cu.Theme
		if t.null("name") {
			th.Name = nil
		}
		if t.null("mode") {
			th.Mode = nil
		}
		if t.null("colors") {
			th.Colors = nil
		} else if c := t["colors"]; c != nil && th.Colors != nil && c.null("primary") {
			colors := *th.Colors
			colors.Primary = nil
			th.Colors = &colors
		}
		cu.Theme = &th
	}
	if n.null("layout") {
		cu.Layout = nil
	}
	if n.null("css") {
		cu.CSS = nil
	}
	if n.null("robots") {
		cu.Robots = nil
	}
	if n.null("menu") {
		cu.Menu = nil
	} else if m := n["menu"]; m != nil && cu.Menu != nil {
		menu := *cu.Menu
		if m.null("main") {
			menu.Main = nil
		}
		if m.null("footer_sections") {
			menu.FooterSections = nil
		}
		if m.null("footer_bottom") {
			menu.FooterBottom = nil
		}
		cu.Menu = &menu
	}
	if n.null("spec_renderer") {
		cu.SpecRenderer = nil
	} else if r := n["spec_renderer"]; r != nil && cu.SpecRenderer != nil {
		sr := *cu.SpecRenderer
		for key, field := range map[string]**bool{
			"try_it_ui": &sr.TryItUI, "try_it_insomnia": &sr.TryItInsomnia, "infinite_scroll": &sr.InfiniteScroll,
			"show_schemas": &sr.ShowSchemas, "hide_internal": &sr.HideInternal, "hide_deprecated": &sr.HideDeprecated,
			"allow_custom_server_urls": &sr.AllowCustomServerURLs,
		} {
			if r.null(key) {
				*field = nil
			}
		}
		cu.SpecRenderer = &sr
	}
	return cu
}
