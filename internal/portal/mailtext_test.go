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
