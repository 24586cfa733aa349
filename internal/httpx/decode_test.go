package httpx

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sigtrail/sigtrail/internal/apperr"
)

type sample struct {
	Name    string `json:"name"`
	Enabled *bool  `json:"enabled"`
	Count   int    `json:"count"`
}

func decode(body, contentType string, limit int64) (sample, error) {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	var s sample
	err := DecodeJSON(httptest.NewRecorder(), r, &s, limit)
	return s, err
}

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, ct string
		code           apperr.Code // "" : accepted
		field          string
	}{
		{"ok", `{"name":"a","count":2}`, "application/json", "", ""},
		{"no content type", `{"name":"a"}`, "", "", ""},
		{"problem json", `{"name":"a"}`, "application/merge-patch+json; charset=utf-8", "", ""},
		{"form", `name=a`, "application/x-www-form-urlencoded", apperr.Unsupported, ""},
		{"empty", `  `, "application/json", apperr.Invalid, "body"},
		{"null", `null`, "application/json", apperr.Invalid, "body"},
		{"syntax", `{"name":`, "application/json", apperr.Invalid, "body"},
		{"garbage", `xyz`, "application/json", apperr.Invalid, "body"},
		{"array", `[1]`, "application/json", apperr.Invalid, "body"},
		{"wrong type", `{"count":"2"}`, "application/json", apperr.Invalid, "count"},
		{"wrong bool", `{"enabled":1}`, "application/json", apperr.Invalid, "enabled"},
		{"unknown field", `{"colour":"red"}`, "application/json", apperr.Invalid, "colour"},
		{"two values", `{} {}`, "application/json", apperr.Invalid, "body"},
		{"not utf-8", "{\"name\":\"\xff\"}", "application/json", apperr.Invalid, "body"},
		{"too large", `{"name":"` + strings.Repeat("a", 200) + `"}`, "application/json", apperr.TooLarge, ""},
	} {
		_, err := decode(tc.body, tc.ct, 128)
		if tc.code == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if apperr.CodeOf(err) != tc.code {
			t.Errorf("%s: %v, want code %s", tc.name, err, tc.code)
			continue
		}
		if tc.field != "" {
			p := ProblemFor(err, "1", nil)
			if len(p.InvalidParameters) == 0 || p.InvalidParameters[0].Field != tc.field {
				t.Errorf("%s: invalid parameters %+v, want field %s", tc.name, p.InvalidParameters, tc.field)
			}
		}
	}
}

// FuzzDecodeJSON: any body is either decoded or refused with a 4xx code.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"name":"a"}`, `{"count":1e400}`, `{"enabled":null}`, `[`, `{"name":"\ud800"}`, "\x00",
		`{"name":"\ud800\u0041"}`, `{"name":"\\ud800\ud83d\ude00"}`, `{"name":"a","name":"b"}`, `{"Name":{"x":[{}]}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		_, err := decode(body, "application/json", 1<<10)
		if err == nil {
			return
		}
		if st := apperr.HTTPStatus(apperr.CodeOf(err)); st < 400 || st > 499 {
			t.Fatalf("body %q: %v maps to %d", body, err, st)
		}
		if p := ProblemFor(err, "1", nil); p.Detail == "" {
			t.Fatalf("no detail for %v", err)
		}
	})
}
