package smtpmail

import (
	"context"
	"github.com/sigtrail/sigtrail/internal/smtptest"
	"mime"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/clock"
)

func TestSendDeliversAnEncodedMessage(t *testing.T) {
	t.Parallel()
	rx := smtptest.Start(t)
	addr, out := rx.Addr, rx.Messages
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
	if g.From != "portal@acme.test" || g.To != "john@example.com" {
		t.Errorf("envelope %s -> %s", g.From, g.To)
	}
	dec := new(mime.WordDecoder)
	subj, err := dec.DecodeHeader(g.Header.Get("Subject"))
	if err != nil || subj != "Vérify your email" {
		t.Errorf("subject %q %v", subj, err)
	}
	if d, _ := g.Header.Date(); !d.Equal(at) {
		t.Errorf("date %v", d)
	}
	if ct := g.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	if want := strings.ReplaceAll(text, "\n", "\r\n"); g.Body != want {
		t.Errorf("body %q, want %q", g.Body, want)
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
	rx := smtptest.Start(t)
	addr, out := rx.Addr, rx.Messages
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
