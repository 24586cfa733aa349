package cli

import (
	"context"
	"strings"
	"testing"
)

// TestUserOfAnotherOrgsAddress: the address of org acme's user can be
// added to org bigcorp too (no squatting), the invite answers exactly as
// for a new address, emails a notice with no link that sets a password,
// and the person's password stays theirs; the operator's create with a
// piped password is refused in one line, changing nothing.
func TestUserOfAnotherOrgsAddress(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, stop := serveAt(t, dir, "127.0.0.1:0")
	stop() // the outbox is read here, not sent by a server
	for _, org := range []string{"acme", "bigcorp"} {
		if code, _, errs := runCLI(t, nil, "", "org", "create", org, "--data-dir", dir); code != 0 {
			t.Fatalf("org create: %s", errs)
		}
	}
	if code, _, errs := runCLI(t, nil, "long enough password\n", "user", "create", "--org", "acme", "--data-dir", dir,
		"--email", "bob@bigcorp.com", "--role", "org-admin", "--password-stdin"); code != 0 {
		t.Fatalf("user create in acme: %s", errs)
	}
	ctx := context.Background()
	hashOf := func() string {
		t.Helper()
		st, err := openStore(ctx, dir, "", "")
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		id, err := st.GetIdentityByEmail(ctx, "bob@bigcorp.com")
		if err != nil {
			t.Fatal(err)
		}
		return id.PasswordHash
	}
	before := hashOf()

	code, _, errs := runCLI(t, nil, "another long password\n", "user", "create", "--org", "bigcorp", "--data-dir", dir,
		"--email", "Bob@BigCorp.com", "--role", "org-admin", "--password-stdin")
	if code == 0 || !strings.Contains(errs, "already logs in to the console through another org") ||
		strings.Count(strings.TrimRight(errs, "\n"), "\n") != 0 {
		t.Fatalf("create with a password of another org's address: exit %d, %q; want a one-line refusal", code, errs)
	}

	invite := func(email string) string {
		t.Helper()
		code, _, errs := runCLI(t, nil, "", "user", "create", "--org", "bigcorp", "--data-dir", dir, "--email", email,
			"--role", "read-only", "--console-url", "https://audit.example.com")
		if code != 0 {
			t.Fatalf("invite of %s: exit %d, %q", email, code, errs)
		}
		// The answer less the new user's id and the address itself.
		f := strings.Fields(errs)
		return strings.ReplaceAll(f[0]+" "+strings.Join(f[2:], " "), email, "EMAIL")
	}
	fresh, existing := invite("new@bigcorp.com"), invite("Bob@BigCorp.com")
	if fresh != existing {
		t.Fatalf("the invite of another org's address answered\n%q\nand of a new address\n%q", existing, fresh)
	}
	mails := claimAll(t, dir)
	if len(mails) != 2 || mails[1].to != "Bob@BigCorp.com" || setPasswordLink.MatchString(mails[1].text) ||
		!strings.Contains(mails[1].text, "existing email and password") || !setPasswordLink.MatchString(mails[0].text) {
		t.Fatalf("outbox: %+v; want a set-password link to the new address and a notice without one to Bob", mails)
	}
	if hashOf() != before {
		t.Fatal("adding the address to another org changed the person's password")
	}
	code, out, _ := runCLI(t, nil, "", "user", "list", "--org", "bigcorp", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "Bob@BigCorp.com\tread-only\tactive") {
		t.Fatalf("user list of bigcorp: %d %q", code, out)
	}
	// Disabling Bob in bigcorp leaves him an active user of acme.
	if code, _, errs := runCLI(t, nil, "", "user", "disable", "--org", "bigcorp", "--data-dir", dir, "bob@bigcorp.com"); code != 0 {
		t.Fatalf("user disable: %s", errs)
	}
	code, out, _ = runCLI(t, nil, "", "user", "list", "--org", "acme", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "bob@bigcorp.com\torg-admin\tactive") {
		t.Fatalf("user list of acme after disabling bigcorp's Bob: %d %q", code, out)
	}
}
