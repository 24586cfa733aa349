package smtpmail

import (
	"context"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/sigtrail/sigtrail/internal/clock"
)

type got struct {
	from, to string
	msg      *mail.Message
	body     string
}

type backend struct{ out chan got }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{out: b.out}, nil }

type session struct {
	out      chan got
	from, to string
}

func (s *session) Reset()                                      {}
func (s *session) Logout() error                               { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error   { s.to = to; return nil }
func (s *session) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		return err
	}
	s.out <- got{s.from, s.to, m, string(b)}
	return nil
}

// receiver runs an SMTP server on 127.0.0.1 for the test.
func receiver(t *testing.T) (string, chan got) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan got, 4)
	s := smtp.NewServer(backend{out})
	s.Domain = "localhost"
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close(); <-done })
	return l.Addr().String(), out
}

func TestSendDeliversAnEncodedMessage(t *testing.T) {
	t.Parallel()
	addr, out := receiver(t)
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	m, err := New("smtp://"+addr, "Acme Portal <portal@acme.test>", clock.NewFake(at))
	if err != nil {
		t.Fatal(err)
	}
	long := "https://acme.example/verify-email?token=" + strings.Repeat("0123456789", 12)
	text := "Héllo Jöhn,\n\n" + long + "\n"
	if err := m.Send(context.Background(), "john@example.com", "Vérify your email", text); err != nil {
		t.Fatal(err)
	}
	g := <-out
	if g.from != "portal@acme.test" || g.to != "john@example.com" {
		t.Errorf("envelope %s -> %s", g.from, g.to)
	}
	dec := new(mime.WordDecoder)
	subj, err := dec.DecodeHeader(g.msg.Header.Get("Subject"))
	if err != nil || subj != "Vérify your email" {
		t.Errorf("subject %q %v", subj, err)
	}
	if d, _ := g.msg.Header.Date(); !d.Equal(at) {
		t.Errorf("date %v", d)
	}
	if ct := g.msg.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	if want := strings.ReplaceAll(text, "\n", "\r\n"); g.body != want {
		t.Errorf("body %q, want %q", g.body, want)
	}
}

func TestNewRejectsBadConfiguration(t *testing.T) {
	t.Parallel()
	tests := []struct{ url, from string }{
		{"http://127.0.0.1:25", "a@b.test"},
		{"smtp://", "a@b.test"},
		{"smtp://127.0.0.1:25/path", "a@b.test"},
		{"smtp://127.0.0.1:25?x=1", "a@b.test"},
		{"smtp://127.0.0.1:25", ""},
		{"smtp://127.0.0.1:25", "not an address"},
		{"::", "a@b.test"},
	}
	for _, tt := range tests {
		if _, err := New(tt.url, tt.from, nil); err == nil {
			t.Errorf("New(%q, %q) accepted", tt.url, tt.from)
		}
	}
	m, err := New("smtps://relay.example", "a@b.test", nil)
	if err != nil || m.addr != "relay.example:465" || !m.implicitTLS {
		t.Errorf("smtps default port: %+v %v", m, err)
	}
}

func TestSendRefusesHeaderInjectionAndCredentialsInTheClear(t *testing.T) {
	t.Parallel()
	addr, out := receiver(t)
	m, err := New("smtp://"+addr, "portal@acme.test", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := m.Send(ctx, "john@example.com", "Hi\r\nBcc: eve@example.com", "x"); err == nil {
		t.Error("subject with a line break sent")
	}
	if err := m.Send(ctx, "john@example.com\r\nBcc: eve@example.com", "Hi", "x"); err == nil {
		t.Error("recipient with a line break sent")
	}
	withUser, err := New("smtp://user:secret@"+addr, "portal@acme.test", nil)
	if err != nil {
		t.Fatal(err)
	}
	// The receiver offers no STARTTLS, so the password must not be sent.
	if err := withUser.Send(ctx, "john@example.com", "Hi", "x"); err == nil || !strings.Contains(err.Error(), "starttls") {
		t.Errorf("credentials over plain SMTP: %v", err)
	}
	select {
	case g := <-out:
		t.Errorf("a message got through: %+v", g)
	default:
	}
}

func TestSendFailsFastWhenNothingListens(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	m, err := New("smtp://"+addr, "portal@acme.test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(context.Background(), "john@example.com", "Hi", "x"); err == nil {
		t.Error("send to a closed port succeeded")
	}
}
