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

func TestRotateCSRFReplacesTheRequestsToken(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	old := NewSecret()
	r.AddCookie(&http.Cookie{Name: "other", Value: "kept"})
	r.AddCookie(&http.Cookie{Name: "c", Value: old})
	if CSRFToken(rec, r, "c", false) != old {
		t.Fatal("an existing token is not reused")
	}
	v := RotateCSRF(rec, r, "c", false)
	if v == old || len(v) != 43 || CSRFToken(rec, r, "c", false) != v {
		t.Fatalf("rotated %q from %q; later calls in the request see %q", v, old, CSRFToken(rec, r, "c", false))
	}
	if c, err := r.Cookie("other"); err != nil || c.Value != "kept" {
		t.Errorf("other cookies of the request: %v %v", c, err)
	}
	set := rec.Result().Cookies()
	if len(set) != 1 || set[0].Value != v {
		t.Errorf("set cookies %+v, want the one new token", set)
	}
}

func TestSetHSTS(t *testing.T) {
	t.Parallel()
	for _, https := range []bool{false, true} {
		rec := httptest.NewRecorder()
		SetHSTS(rec, https)
		want := ""
		if https {
			want = "max-age=31536000"
		}
		if got := rec.Header().Get("Strict-Transport-Security"); got != want {
			t.Errorf("https %v: %q, want %q", https, got, want)
		}
	}
}
