package httpx

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sigtrail/sigtrail/internal/apperr"
)

func TestDecodeJSONKeysAreCaseSensitive(t *testing.T) {
	t.Parallel()
	type embedded struct {
		Name string `json:"name"`
	}
	type body struct {
		embedded
		Enabled *bool  `json:"enabled"`
		Email   string `json:"email,omitempty"`
	}
	cases := []struct {
		in      string
		wantErr string // the invalid field, "" for success
	}{
		{`{"enabled":true,"email":"a@b.c","name":"x"}`, ""},
		{`{"Enabled":true}`, "Enabled"},
		{`{"emAil":"a@b.c"}`, "emAil"},
		{`{"NAME":"x"}`, "NAME"},
	}
	for _, c := range cases {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.in))
		r.Header.Set("Content-Type", "application/json")
		var dst body
		err := DecodeJSON(httptest.NewRecorder(), r, &dst, DefaultMaxBody)
		if c.wantErr == "" {
			if err != nil {
				t.Errorf("%s: %v %+v", c.in, err, err.(*apperr.Error).Params)
			}
			continue
		}
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Code != apperr.Invalid || len(ae.Params) != 1 || ae.Params[0].Field != c.wantErr {
			t.Errorf("%s: got %v, want an invalid parameter %q", c.in, err, c.wantErr)
		}
	}
}

// Nested properties are case-sensitive too, keys are given once, and a
// lone surrogate escape is refused rather than stored as U+FFFD.
func TestDecodeJSONNestedKeysDuplicatesSurrogates(t *testing.T) {
	t.Parallel()
	type colors struct {
		Primary string `json:"primary"`
	}
	type theme struct {
		Colors *colors `json:"colors"`
	}
	type item struct {
		Path string `json:"path"`
	}
	type body struct {
		Name   string            `json:"name"`
		Theme  *theme            `json:"theme"`
		Menu   []item            `json:"menu"`
		ByName map[string]item   `json:"by_name"`
		Free   map[string]any    `json:"free"`
		Raw    json.RawMessage   `json:"raw"`
		Labels map[string]string `json:"labels"`
	}
	cases := []struct {
		in, field string // field "": accepted
	}{
		{`{"name":"a","theme":{"colors":{"primary":"#fff"}},"menu":[{"path":"/"}],"by_name":{"x":{"path":"/"}}}`, ""},
		{`{"free":{"Any":{"Thing":1}},"raw":{"A":1,"a":2},"labels":{"K":"v","k":"v"}}`, ""},
		{`{"name":"\ud83d\ude00 \u00e9 \\ud800 \"\ud800\""}`, "body"},
		{`{"name":"\ud83d\ude00 \u00e9 \\ud800"}`, ""},
		{`{"theme":{"Colors":{"primary":"#fff"}}}`, "theme.Colors"},
		{`{"theme":{"colors":{"Primary":"#fff"}}}`, "theme.colors.Primary"},
		{`{"menu":[{"path":"/"},{"Path":"/"}]}`, "menu.Path"},
		{`{"by_name":{"x":{"PATH":"/"}}}`, "by_name.x.PATH"},
		{`{"name":"a","name":"b"}`, "name"},
		{`{"theme":{"colors":{"primary":"#fff","primary":"#000"}}}`, "primary"},
		{`{"menu":[{"path":"/"},{"path":"/a","path":"/b"}]}`, "path"},
		{`{"free":{"x":1,"x":2}}`, "x"},
		{`{"name":"\ud800"}`, "body"},
		{`{"name":"a\udc00b"}`, "body"},
		{`{"name":"\ud800\u0041"}`, "body"},
		{`{"free":{"k\uDBFF":1}}`, "body"},
	}
	for _, c := range cases {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.in))
		r.Header.Set("Content-Type", "application/json")
		var dst body
		err := DecodeJSON(httptest.NewRecorder(), r, &dst, DefaultMaxBody)
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: %v %+v", c.in, err, err.(*apperr.Error).Params)
			}
			continue
		}
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Code != apperr.Invalid || len(ae.Params) != 1 || ae.Params[0].Field != c.field {
			t.Errorf("%s: got %v %+v, want an invalid parameter %q", c.in, err, err.(*apperr.Error).Params, c.field)
		}
	}
}

// A number where an integer belongs is named as such.
func TestDecodeJSONNamesIntegers(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`{"count":1.5}`, `{"count":1e400}`, `{"count":99999999999999999999}`, `{"count":"1"}`} {
		_, err := decode(in, "application/json", DefaultMaxBody)
		var ae *apperr.Error
		if !errors.As(err, &ae) || len(ae.Params) != 1 || ae.Params[0].Reason != "must be of type integer" {
			t.Errorf("%s: %v, want count: must be of type integer", in, err)
		}
	}
}
