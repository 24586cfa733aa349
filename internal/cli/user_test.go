package cli

import (
	"strings"
	"testing"
)

func TestUserCreateListDisable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base, stop := serveAt(t, dir, "127.0.0.1:0")
	_ = base
	stop() // the database exists now; the commands work on it with or without a server
	if code, _, errs := runCLI(t, nil, "", "org", "create", "acme", "--data-dir", dir); code != 0 {
		t.Fatalf("org create: %s", errs)
	}
	cases := []struct {
		name, stdin string
		args        []string
		code        int
		want        string
	}{
		{"no password flag", "", []string{"--email", "a@example.com", "--role", "org-admin"}, 1, "--console-url is required"},
		{"empty stdin", "", []string{"--email", "a@example.com", "--role", "org-admin", "--password-stdin"}, 1, "no password on standard input"},
		{"bad fields", "short\n", []string{"--email", "nope", "--role", "producer", "--password-stdin"}, 1, "email must be an email address"},
		{"unknown org", "long enough password\n", []string{"--email", "a@example.com", "--role", "org-admin", "--password-stdin", "--org", "nope"}, 1, `no org named "nope"`},
		{"created", "long enough password\n", []string{"--email", "a@example.com", "--role", "read-only", "--password-stdin"}, 0, "created in org acme with role read-only"},
		{"taken", "long enough password\n", []string{"--email", "A@example.com", "--role", "org-admin", "--password-stdin"}, 1, "email already belongs to a user"},
	}
	for _, c := range cases {
		args := append([]string{"user", "create", "--org", "acme", "--data-dir", dir}, c.args...)
		code, _, errs := runCLI(t, nil, c.stdin, args...)
		if code != c.code || !strings.Contains(errs, c.want) || strings.Count(strings.TrimRight(errs, "\n"), "\n") != 0 {
			t.Errorf("%s: exit %d, stderr %q; want exit %d with %q on one line", c.name, code, errs, c.code, c.want)
		}
	}
	code, out, _ := runCLI(t, nil, "", "user", "list", "--org", "acme", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "a@example.com\tread-only\tactive") {
		t.Fatalf("user list: %d %q", code, out)
	}
	if code, _, errs := runCLI(t, nil, "", "user", "disable", "--org", "acme", "a@example.com", "--data-dir", dir); code != 0 {
		t.Fatalf("user disable: %s", errs)
	}
	if _, out, _ := runCLI(t, nil, "", "user", "list", "--org", "acme", "--data-dir", dir); !strings.Contains(out, "\tdisabled\t") {
		t.Fatalf("after disable: %q", out)
	}
}
