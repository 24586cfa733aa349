package cli

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/sealing"
	"github.com/sigtrail/sigtrail/internal/smtptest"
)

var setPasswordLink = regexp.MustCompile(`(https?://\S+)/set-password\?token=([A-Za-z0-9_-]+)`)

func TestUserCreateWithoutPasswordQueuesOneLink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, stop := serveAt(t, dir, "127.0.0.1:0")
	stop() // the outbox is read here, not sent by a server
	if code, _, errs := runCLI(t, nil, "", "org", "create", "acme", "--data-dir", dir); code != 0 {
		t.Fatalf("org create: %s", errs)
	}
	create := []string{"user", "create", "--org", "acme", "--data-dir", dir, "--email", "new@example.com", "--role", "read-only"}
	for _, c := range []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"no console URL", "", nil, "--console-url is required"},
		{"ftp console URL", "", []string{"--console-url", "ftp://audit.example.com"}, "--console-url: the console URL must be an http(s) URL"},
		{"console URL without host", "", []string{"--console-url", "https://"}, "--console-url: the console URL must be an http(s) URL"},
		{"both ways", "long enough password\n", []string{"--password-stdin", "--console-url", "https://audit.example.com"}, "exclude each other"},
		{"reset of an unknown user", "", []string{"--console-url", "https://audit.example.com"}, `org acme has no user "nobody@example.com"`},
	} {
		args := append(append([]string{}, create...), c.args...)
		if strings.HasPrefix(c.name, "reset") {
			args = []string{"user", "reset-password", "--org", "acme", "--data-dir", dir, "--email", "nobody@example.com", "--console-url", "https://audit.example.com"}
		}
		code, _, errs := runCLI(t, nil, c.stdin, args...)
		if code == 0 || !strings.Contains(errs, c.want) || strings.Count(strings.TrimRight(errs, "\n"), "\n") != 0 {
			t.Errorf("%s: exit %d, stderr %q; want a failure with %q on one line", c.name, code, errs, c.want)
		}
	}
	code, _, errs := runCLI(t, nil, "", append(create, "--console-url", "https://audit.example.com/")...)
	if code != 0 || !strings.Contains(errs, "added to org acme with role read-only; an email is queued") {
		t.Fatalf("user create: exit %d, %q", code, errs)
	}
	mails := claimAll(t, dir)
	if len(mails) != 1 || mails[0].to != "new@example.com" {
		t.Fatalf("outbox after user create: %+v, want one mail to new@example.com", mails)
	}
	m := setPasswordLink.FindStringSubmatch(mails[0].text)
	if m == nil || m[1] != "https://audit.example.com" {
		t.Fatalf("mail text has no set-password link on the console URL: %q", mails[0].text)
	}
	if code, out, _ := runCLI(t, nil, "", "user", "list", "--org", "acme", "--data-dir", dir); code != 0 || !strings.Contains(out, "new@example.com\tread-only\tactive") {
		t.Fatalf("user list: %d %q", code, out)
	}
	code, _, errs = runCLI(t, nil, "", "user", "reset-password", "--org", "acme", "--data-dir", dir, "--email", "new@example.com",
		"--console-url", "http://127.0.0.1:8080")
	if code != 0 || !strings.Contains(errs, "earlier links no longer work") {
		t.Fatalf("user reset-password: exit %d, %q", code, errs)
	}
	mails = claimAll(t, dir)
	if len(mails) != 1 || !strings.Contains(mails[0].text, "http://127.0.0.1:8080/set-password?token=") ||
		strings.Contains(mails[0].text, m[2]) {
		t.Fatalf("outbox after reset-password: %+v, want one mail with a new link", mails)
	}
}

type queued struct{ to, text string }

// claimAll takes every mail out of the data dir's outbox.
func claimAll(t *testing.T, dir string) []queued {
	t.Helper()
	ctx := context.Background()
	st, err := openStore(ctx, dir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ms, err := st.ClaimMail(ctx, "test", time.Now().Add(time.Minute), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []queued
	for _, m := range ms {
		out = append(out, queued{m.To, m.Text})
		if err := st.DeleteMail(ctx, "test", m.ID); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestInvitedUserSetsPasswordThroughEmailedLink runs the whole path: the
// CLI queues the mail beside a running server, whose outbox sends it
// through a real SMTP receiver; the link opens the console's page, which
// sets the password the user then logs in with.
func TestInvitedUserSetsPasswordThroughEmailedLink(t *testing.T) {
	t.Parallel()
	relay := smtptest.Start(t)
	dir := t.TempDir()
	base, _ := serveAt(t, dir, "127.0.0.1:0", "--smtp-url", relay.URL(), "--smtp-from", "sigtrail@example.com")
	if code, _, errs := runCLI(t, nil, "", "org", "create", "acme", "--data-dir", dir); code != 0 {
		t.Fatalf("org create: %s", errs)
	}
	if code, _, errs := runCLI(t, nil, "", "user", "create", "--org", "acme", "--data-dir", dir, "--email", "ada@example.com",
		"--role", "org-admin", "--console-url", base); code != 0 {
		t.Fatalf("user create: %s", errs)
	}
	msg := relay.Next(t, 30*time.Second) // the outbox polls every 5 s
	m := setPasswordLink.FindStringSubmatch(msg.Body)
	if msg.To != "ada@example.com" || m == nil || m[1] != base {
		t.Fatalf("mail to %s: %q", msg.To, msg.Body)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	body := func(res *http.Response) string {
		t.Helper()
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	csrfOf := func(path string) string {
		t.Helper()
		res, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b := body(res)
		cm := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(b)
		if res.StatusCode != http.StatusOK || cm == nil {
			t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
		}
		return cm[1]
	}
	post := func(path string, form url.Values) *http.Response {
		t.Helper()
		res, err := c.PostForm(base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		body(res)
		return res
	}
	linkPath := strings.TrimPrefix(m[0], base)
	res := post("/set-password", url.Values{"csrf": {csrfOf(linkPath)}, "token": {m[2]},
		"password": {"long enough password"}, "confirm": {"long enough password"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login?m=password-set" {
		t.Fatalf("set password: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	res = post("/login", url.Values{"csrf": {csrfOf("/login")}, "email": {"ada@example.com"}, "password": {"long enough password"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("log in: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
}

// TestSetPasswordMailIsSealedAtRest: with the key file, the queued mail's
// text (which carries the link's token, kept otherwise only as a hash) is
// sealed in the database, and opens with the same key.
func TestSetPasswordMailIsSealedAtRest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, stop := serveAt(t, dir, "127.0.0.1:0")
	stop()
	keyFile := filepath.Join(t.TempDir(), "keys")
	writeKeyFile(t, keyFile, 1)
	if code, _, errs := runCLI(t, nil, "", "org", "create", "acme", "--data-dir", dir); code != 0 {
		t.Fatalf("org create: %s", errs)
	}
	if code, _, errs := runCLI(t, nil, "", "user", "create", "--org", "acme", "--data-dir", dir, "--email", "s@example.com",
		"--role", "read-only", "--console-url", "https://audit.example.com", "--secret-key-file", keyFile); code != 0 {
		t.Fatalf("user create: %s", errs)
	}
	ctx := context.Background()
	st, err := openStore(ctx, dir, "", keyFile)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The raw outbox, under the sealing layer, is read without claiming.
	raw, err := sealing.Inner(st).ClaimMail(ctx, "raw", time.Now().Add(time.Minute), time.Nanosecond, 10)
	if err != nil || len(raw) != 1 {
		t.Fatalf("raw outbox: %d mails, %v", len(raw), err)
	}
	if !sealing.IsSealed(raw[0].Text) || strings.Contains(raw[0].Text, "set-password") {
		t.Fatalf("the queued mail is stored in the clear: %q", raw[0].Text)
	}
	opened, err := st.ClaimMail(ctx, "test", time.Now().Add(2*time.Minute), time.Minute, 10)
	if err != nil || len(opened) != 1 || !setPasswordLink.MatchString(opened[0].Text) {
		t.Fatalf("the sealed mail does not open with the key: %+v, %v", opened, err)
	}
}
