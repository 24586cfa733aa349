// Package smtptest runs a real SMTP receiver on 127.0.0.1 for tests: every
// message it accepts is decoded (quoted-printable bodies included) and handed
// to the test through a channel. It stops with the test.
package smtptest

import (
	"io"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one received email.
type Message struct {
	From, To string
	Header   mail.Header
	Body     string
}

// Server is a running receiver.
type Server struct {
	Addr     string // host:port on 127.0.0.1
	Messages <-chan Message
}

// URL is the smtp:// URL sigtrail's --smtp-url takes.
func (s *Server) URL() string { return "smtp://" + s.Addr }

// Start runs a receiver until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartAt(t, "127.0.0.1:0")
}

// StartAt runs a receiver on addr until the test ends: a relay that comes
// back where a mailer expects it.
func StartAt(t testing.TB, addr string) *Server {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan Message, 64)
	s := smtp.NewServer(backend{out})
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close(); <-done })
	return &Server{Addr: l.Addr().String(), Messages: out}
}

// Next waits up to d for the next message.
func (s *Server) Next(t testing.TB, d time.Duration) Message {
	t.Helper()
	select {
	case m := <-s.Messages:
		return m
	case <-time.After(d):
		t.Fatalf("no email arrived within %v", d)
	}
	return Message{}
}

type backend struct{ out chan<- Message }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{out: b.out}, nil }

type session struct {
	out      chan<- Message
	from, to string
}

func (s *session) Reset()                                      { s.from, s.to = "", "" }
func (s *session) Logout() error                               { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error   { s.to = to; return nil }

func (s *session) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	var body io.Reader = m.Body
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(m.Body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	s.out <- Message{From: s.from, To: s.to, Header: m.Header, Body: string(b)}
	return nil
}
