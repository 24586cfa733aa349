package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
)

// TestCustomizationPatchNullClears: Kong's PATCH is a merge patch, so a
// property sent as null is removed (at any depth) and an absent one kept.
func TestCustomizationPatchNullClears(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	_, tok := h.org("o")
	var p portalJSON
	h.call(http.MethodPost, "/v3/portals", tok, map[string]any{"name": "docs"}).expect(t, http.StatusCreated).decode(t, &p)
	path := "/v3/portals/" + p.ID + "/customization"
	full := map[string]any{
		"theme":  map[string]any{"name": "mint_rocket", "mode": "dark", "colors": map[string]any{"primary": "#abcdef"}},
		"layout": "topnav", "css": "body{}", "robots": "noindex",
		"menu": map[string]any{
			"main":          []any{map[string]any{"path": "/a", "title": "A", "visibility": "public", "external": false}},
			"footer_bottom": []any{map[string]any{"path": "/b", "title": "B", "visibility": "public", "external": false}},
		},
		"spec_renderer": map[string]any{"try_it_ui": true, "show_schemas": false},
	}

	tests := []struct {
		name  string
		patch string
		want  string // the customization after the patch, as JSON
	}{
		{"absent keeps everything", `{}`,
			`{"theme":{"name":"mint_rocket","mode":"dark","colors":{"primary":"#abcdef"}},"layout":"topnav","css":"body{}","menu":{"main":[{"path":"/a","title":"A","visibility":"public","external":false}],"footer_bottom":[{"path":"/b","title":"B","visibility":"public","external":false}]},"spec_renderer":{"try_it_ui":true,"show_schemas":false},"robots":"noindex"}`},
		{"top-level nulls", `{"css":null,"robots":null,"layout":null,"spec_renderer":null}`,
			`{"theme":{"name":"mint_rocket","mode":"dark","colors":{"primary":"#abcdef"}},"menu":{"main":[{"path":"/a","title":"A","visibility":"public","external":false}],"footer_bottom":[{"path":"/b","title":"B","visibility":"public","external":false}]}}`},
		{"nested nulls beside a change", `{"theme":{"mode":null,"colors":{"primary":null}},"menu":{"main":null},"spec_renderer":{"show_schemas":null}}`,
			`{"theme":{"name":"mint_rocket","colors":{}},"layout":"topnav","css":"body{}","menu":{"footer_bottom":[{"path":"/b","title":"B","visibility":"public","external":false}]},"spec_renderer":{"try_it_ui":true},"robots":"noindex"}`},
		{"a whole object", `{"theme":null,"menu":null}`,
			`{"layout":"topnav","css":"body{}","spec_renderer":{"try_it_ui":true,"show_schemas":false},"robots":"noindex"}`},
		{"null and a value side by side", `{"css":null,"layout":"sidebar","theme":{"name":null,"mode":"light"}}`,
			`{"theme":{"mode":"light","colors":{"primary":"#abcdef"}},"layout":"sidebar","menu":{"main":[{"path":"/a","title":"A","visibility":"public","external":false}],"footer_bottom":[{"path":"/b","title":"B","visibility":"public","external":false}]},"spec_renderer":{"try_it_ui":true,"show_schemas":false},"robots":"noindex"}`},
	}
	for _, tt := range tests {
		// Sequential: every case starts from the full customization.
		h.call(http.MethodPut, path, tok, full).expect(t, http.StatusOK)
		patched := h.call(http.MethodPatch, path, tok, tt.patch).expect(t, http.StatusOK)
		if got := string(patched.Body); !sameJSON(t, got, tt.want) {
			t.Errorf("%s: PATCH answered\n%s\nwant\n%s", tt.name, got, tt.want)
		}
		if got := string(h.call(http.MethodGet, path, tok, nil).expect(t, http.StatusOK).Body); !sameJSON(t, got, tt.want) {
			t.Errorf("%s: GET after PATCH\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
	// PUT with nulls stores no such field: a replacement has nothing to merge.
	h.call(http.MethodPut, path, tok, `{"css":null,"layout":"sidebar"}`).expect(t, http.StatusOK)
	if got := string(h.call(http.MethodGet, path, tok, nil).Body); !sameJSON(t, got, `{"layout":"sidebar"}`) {
		t.Errorf("PUT with null: %s", got)
	}
}

// sameJSON compares two JSON documents by value.
func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatalf("%v: %s", err, a)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return reflect.DeepEqual(x, y)
}
