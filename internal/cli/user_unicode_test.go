package cli

import (
	"strings"
	"testing"
)

// TestUserCreateRefusesAnAddressWhoseKeyNamesAnotherMailbox: "bİgcorp.com"
// lower-cases to "bigcorp.com" by Unicode's rules, another domain; such an
// address would join bigcorp's Bob's identity, so it is refused in one
// line naming the email, for both kinds of create.
func TestUserCreateRefusesAnAddressWhoseKeyNamesAnotherMailbox(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, stop := serveAt(t, dir, "127.0.0.1:0")
	stop()
	if code, _, errs := runCLI(t, nil, "", "org", "create", "acme", "--data-dir", dir); code != 0 {
		t.Fatalf("org create: %s", errs)
	}
	for _, c := range []struct {
		name, stdin string
		args        []string
	}{
		{"password", "long enough password\n", []string{"--password-stdin"}},
		{"invite", "", []string{"--console-url", "https://audit.example.com"}},
	} {
		args := append([]string{"user", "create", "--org", "acme", "--data-dir", dir, "--email", "bob@bİgcorp.com", "--role", "read-only"}, c.args...)
		code, _, errs := runCLI(t, nil, c.stdin, args...)
		if code == 0 || !strings.Contains(errs, "email") || strings.Count(strings.TrimRight(errs, "\n"), "\n") != 0 {
			t.Errorf("%s: exit %d, %q; want a one-line refusal naming the email", c.name, code, errs)
		}
	}
}
