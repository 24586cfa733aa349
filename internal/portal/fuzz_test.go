package portal

import (
	"encoding/json"
	"io"
	"net/http"
	"net/mail"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/sigtrail/sigtrail/internal/store"
)

func FuzzCheckEmail(f *testing.F) {
	for _, s := range []string{"jane@example.com", "A <a@b.c>", "a@b", "\"x y\"@example.com", "a@b.c\r\nBcc: x", "", "@", "a@[127.0.0.1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := checkEmail("email", s)
		if err != nil {
			return
		}
		if len(got) > maxEmailLen || hasControl(got) || strings.ContainsAny(got, "\r\n") {
			t.Fatalf("accepted %q", got)
		}
		a, err := mail.ParseAddress(got)
		if err != nil || a.Address != got {
			t.Fatalf("accepted %q that does not parse back: %v", got, err)
		}
	})
}

func FuzzCheckFullNameAndToken(f *testing.F) {
	f.Add("Jane Doe", "c8efd006-d8e1-4743-b91b-f163b9eae06a")
	f.Add("\x00", "C8EFD006-D8E1-4743-B91B-F163B9EAE06A")
	f.Add(strings.Repeat("é", 300), "{c8efd006-d8e1-4743-b91b-f163b9eae06a}")
	f.Fuzz(func(t *testing.T, name, token string) {
		if n, err := checkFullName(name); err == nil {
			if n == "" || hasControl(n) || !utf8.ValidString(n) || utf8.RuneCountInString(n) > maxFullNameLen {
				t.Fatalf("accepted name %q", n)
			}
		}
		if tok, err := checkToken(token); err == nil {
			if u, err := uuid.Parse(tok); err != nil || u.String() != tok {
				t.Fatalf("accepted token %q", tok)
			}
		}
	})
}

func FuzzRequestHost(f *testing.F) {
	for _, s := range []string{"acme.localhost:8081", "ACME.LOCALHOST.", "[::1]:80", "", ":", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h := requestHost(s)
		if h != strings.ToLower(h) || strings.Contains(h, ":") && !strings.Contains(s, "[") && strings.Count(s, ":") == 1 {
			t.Fatalf("requestHost(%q) = %q", s, h)
		}
	})
}

// FuzzDeveloperAPI posts arbitrary bodies to every endpoint that parses one,
// as JSON and as a form: no input may cause a 500, and every refusal of the
// API is a problem document.
func FuzzDeveloperAPI(f *testing.F) {
	paths := []string{"/api/v2/developer", "/api/v2/developer/verify-email", "/api/v2/developer/reset-password",
		"/api/v2/developer/forgot-password", "/api/v2/developer/authenticate", "/signup", "/forgot-password", "/verify-email", "/reset-password"}
	f.Add(uint8(0), `{"email":"a@example.com","full_name":"A"}`, false)
	f.Add(uint8(1), `{"token":"c8efd006-d8e1-4743-b91b-f163b9eae06a"}`, false)
	f.Add(uint8(2), `{"token":"c8efd006-d8e1-4743-b91b-f163b9eae06a","password":"12345678"}`, false)
	f.Add(uint8(3), `{"email":"a@example.com"}`, false)
	f.Add(uint8(4), `{"username":"a@example.com","password":"x"}`, false)
	f.Add(uint8(4), `email=a%40example.com&password=x&csrf=`, true)
	f.Add(uint8(5), `full_name=A&email=b%40example.com&csrf=`, true)
	f.Add(uint8(7), `token=c8efd006-d8e1-4743-b91b-f163b9eae06a&password=12345678&confirm=12345678&csrf=`, true)
	f.Add(uint8(0), `{"email":"a@example.com","full_name":"A"}{}`, false)
	f.Add(uint8(4), `[]`, false)

	e := newEnv(f, func(c *Config, _ *store.Portal) {
		c.Argon2 = Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32} // speed over strength while fuzzing
		c.RateLimit = RateLimit{Every: time.Millisecond, Burst: 1000}
	})
	e.drainMails()
	csrf := newSecret()
	f.Fuzz(func(t *testing.T, which uint8, body string, form bool) {
		path := paths[int(which)%len(paths)]
		ct := "application/json"
		if form {
			ct = "application/x-www-form-urlencoded"
			body += "&csrf=" + csrf
		}
		req, err := http.NewRequest(http.MethodPost, e.base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Cookie", csrfCookie+"="+csrf)
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %q: %d %s", path, body, resp.StatusCode, raw)
		}
		if resp.StatusCode >= 400 && strings.HasPrefix(path, "/api/") && !form {
			var p map[string]any
			if resp.Header.Get("Content-Type") != "application/problem+json" || json.Unmarshal(raw, &p) != nil || p["status"] != float64(resp.StatusCode) {
				t.Fatalf("%s %q: %d is no problem document: %s", path, body, resp.StatusCode, raw)
			}
		}
	})
}
