package portal

import (
	"net/http"
	"strings"
	"testing"
)

// Whoever signs up chooses both the address and the name: the verification
// email must not carry the name (a stranger's text in a genuine email).
func TestVerificationEmailCarriesNoChosenName(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bait := "Your account is suspended, call 555-0100 at evil.example"
	r := e.post("/api/v2/developer", map[string]string{"email": "victim@example.com", "full_name": bait})
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d %s", r.StatusCode, r.body)
	}
	m := e.nextMail()
	if strings.Contains(m.Body, "evil.example") || strings.Contains(m.Body, "suspended") {
		t.Fatalf("the verification email carries the name chosen at sign-up:\n%s", m.Body)
	}
}
