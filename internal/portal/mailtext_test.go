package portal

import (
	"net/http"
	"strings"
	"testing"
)

// Whoever signs up chooses the name and any address, so a name in a
// genuine email from the portal would carry a stranger's text (a phishing
// line, a link) to the address's owner. No email the portal sends names
// the developer: not the verification, not the notice of a second sign-up,
// not a password reset.
func TestEmailsCarryNoTextAStrangerChose(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const phish = "URGENT your account was breached, confirm your card at https://evil.example/acme now"
	const victim = "victim@example.com"

	steps := []struct {
		name string
		do   func() response
		want int
	}{
		{"sign-up by a stranger", func() response {
			return e.post("/api/v2/developer", map[string]string{"email": victim, "full_name": phish})
		}, http.StatusCreated},
		{"second sign-up (the existing-account notice)", func() response {
			return e.post("/api/v2/developer", map[string]string{"email": victim, "full_name": "Anyone"})
		}, http.StatusCreated},
		{"forgotten password", func() response {
			return e.post("/api/v2/developer/forgot-password", map[string]string{"email": victim})
		}, http.StatusOK},
	}
	for _, s := range steps {
		if r := s.do(); r.StatusCode != s.want {
			t.Fatalf("%s: %d %s", s.name, r.StatusCode, r.body)
		}
		m := e.nextMail()
		if m.To != victim {
			t.Fatalf("%s: mail to %s", s.name, m.To)
		}
		for _, part := range []string{"evil.example", "URGENT", "breached"} {
			if strings.Contains(m.Body, part) || strings.Contains(m.Header.Get("Subject"), part) {
				t.Errorf("%s: the email carries the stranger's text %q:\n%s", s.name, part, m.Body)
			}
		}
	}
}

// A new password ends every emailed link of the account: a reset link
// sent earlier (or a verification link never followed) that reached
// someone else, through a forwarded or leaked email, no longer sets the
// password once the owner has chosen one.
func TestSettingAPasswordEndsEveryOtherEmailedLink(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		unused func(e *testEnv) string // returns the token of a link left unused
		use    string                  // the path that takes the second token
	}{
		{"an earlier reset link", func(e *testEnv) string {
			e.signUp("jane@example.com")
			if r := e.post("/api/v2/developer/forgot-password", map[string]string{"email": "jane@example.com"}); r.StatusCode != http.StatusOK {
				t.Fatal(r.StatusCode)
			}
			_, tok := mailLink(t, e.nextMail())
			return tok
		}, "/api/v2/developer/reset-password"},
		{"a verification link never followed", func(e *testEnv) string {
			if r := e.post("/api/v2/developer", map[string]string{"email": "jane@example.com", "full_name": "Jane"}); r.StatusCode != http.StatusCreated {
				t.Fatal(r.StatusCode)
			}
			_, tok := mailLink(t, e.nextMail())
			return tok
		}, "/api/v2/developer/verify-email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			old := tc.unused(e)
			// The owner asks for a reset and sets a password with it.
			if r := e.post("/api/v2/developer/forgot-password", map[string]string{"email": "jane@example.com"}); r.StatusCode != http.StatusOK {
				t.Fatal(r.StatusCode)
			}
			_, fresh := mailLink(t, e.nextMail())
			if r := e.post("/api/v2/developer/reset-password", map[string]string{"token": fresh, "password": "the owner's new password"}); r.StatusCode != http.StatusNoContent {
				t.Fatalf("reset: %d %s", r.StatusCode, r.body)
			}
			body := map[string]string{"token": old}
			if tc.use == "/api/v2/developer/reset-password" {
				body["password"] = "someone else's password"
			}
			if r := e.post(tc.use, body); r.StatusCode != http.StatusNotFound {
				t.Fatalf("the old link still works after the password was set: %d %s", r.StatusCode, r.body)
			}
			if r := e.login(e.client, "jane@example.com", "the owner's new password"); r.StatusCode != http.StatusNoContent {
				t.Errorf("the owner's password no longer works: %d %s", r.StatusCode, r.body)
			}
		})
	}
}
