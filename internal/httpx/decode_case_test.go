package httpx

import (
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
				t.Errorf("%s: %v", c.in, err)
			}
			continue
		}
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Code != apperr.Invalid || len(ae.Params) != 1 || ae.Params[0].Field != c.wantErr {
			t.Errorf("%s: got %v, want an invalid parameter %q", c.in, err, c.wantErr)
		}
	}
}
