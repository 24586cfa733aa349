package webform

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestCSRFDoubleSubmit(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	tok := CSRFToken(rec, r, "c", true)
	if len(tok) != 43 || CSRFToken(rec, r, "c", true) != tok {
		t.Fatalf("token %q is not stable within a request", tok)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly || !cookies[0].Secure || cookies[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookies %+v", cookies)
	}
	post := func(cookie, field string) bool {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(url.Values{"csrf": {field}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: "c", Value: cookie})
		}
		if err := r.ParseForm(); err != nil {
			t.Fatal(err)
		}
		return CSRFOK(r, "c")
	}
	cases := []struct {
		name          string
		cookie, field string
		ok            bool
	}{
		{"matching", tok, tok, true},
		{"no cookie", "", tok, false},
		{"no field", tok, "", false},
		{"another token", tok, NewSecret(), false},
		{"both empty", "", "", false},
	}
	for _, c := range cases {
		if got := post(c.cookie, c.field); got != c.ok {
			t.Errorf("%s: %v, want %v", c.name, got, c.ok)
		}
	}
	if string(SecretHash("a")) == string(SecretHash("b")) || len(SecretHash("a")) != 32 {
		t.Error("SecretHash")
	}
}
