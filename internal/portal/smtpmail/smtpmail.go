// Package smtpmail sends the Dev Portal's emails through an SMTP relay
// (github.com/emersion/go-smtp's client). It is the portal's only SMTP
// dependency; the portal itself sees a Send method.
package smtpmail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/sigtrail/sigtrail/internal/clock"
)

// Mailer sends plain-text emails through one relay.
type Mailer struct {
	addr        string // host:port
	host        string // for TLS server names
	implicitTLS bool
	user, pass  string
	from        *mail.Address
	clk         clock.Clock
	// Timeout bounds one Send when the context has no earlier deadline.
	Timeout time.Duration
	// TLSConfig overrides the TLS settings (tests; private CAs).
	TLSConfig *tls.Config
}

// New reads the relay's URL and the sender address. smtp://host[:port]
// (port 25 by default) talks plain SMTP, as a local relay does;
// smtp://user:pass@host[:port] requires STARTTLS before it logs in;
// smtps://[user:pass@]host[:port] (port 465 by default) is TLS from the
// first byte.
func New(rawURL, from string, clk clock.Clock) (*Mailer, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("smtp url: %v", err)
	}
	m := &Mailer{clk: clk, Timeout: 30 * time.Second}
	port := ""
	switch u.Scheme {
	case "smtp":
		port = "25"
	case "smtps":
		port, m.implicitTLS = "465", true
	default:
		return nil, fmt.Errorf("smtp url: scheme must be smtp or smtps, not %q", u.Scheme)
	}
	if u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, errors.New("smtp url: want smtp://host[:port] with nothing after the port")
	}
	if u.Port() != "" {
		port = u.Port()
	}
	m.host = u.Hostname()
	m.addr = net.JoinHostPort(m.host, port)
	if u.User != nil {
		m.user = u.User.Username()
		m.pass, _ = u.User.Password()
	}
	if from == "" {
		return nil, errors.New("smtp: a sender address (--smtp-from) is required")
	}
	if m.from, err = mail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("smtp from: %v", err)
	}
	if m.clk == nil {
		m.clk = clock.Real{}
	}
	return m, nil
}

// Send delivers one email to one recipient.
func (m *Mailer) Send(ctx context.Context, to, subject, text string) error {
	rcpt, err := mail.ParseAddress(to)
	if err != nil {
		return fmt.Errorf("smtp: recipient: %v", err)
	}
	if strings.ContainsAny(subject, "\r\n") {
		return errors.New("smtp: subject holds a line break")
	}
	msg := m.message(rcpt, subject, text)

	if _, ok := ctx.Deadline(); !ok && m.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, m.Timeout)
		defer cancel()
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.addr)
	if err != nil {
		return fmt.Errorf("smtp: %v", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// Closing the connection when ctx ends unblocks any read or write.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	tlsConf := m.tlsConfig()
	var c *smtp.Client
	switch {
	case m.implicitTLS:
		c = smtp.NewClient(tls.Client(conn, tlsConf))
	case m.user != "":
		if c, err = smtp.NewClientStartTLS(conn, tlsConf); err != nil {
			_ = conn.Close()
			return fmt.Errorf("smtp: starttls: %v", err)
		}
	default:
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	if m.user != "" {
		if _, isTLS := c.TLSConnectionState(); !isTLS {
			return errors.New("smtp: refusing to send credentials without TLS")
		}
		if err := c.Auth(sasl.NewPlainClient("", m.user, m.pass)); err != nil {
			return fmt.Errorf("smtp: auth: %v", err)
		}
	}
	if err := c.SendMail(m.from.Address, []string{rcpt.Address}, bytes.NewReader(msg)); err != nil {
		return fmt.Errorf("smtp: send: %v", err)
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("smtp: quit: %v", err)
	}
	return nil
}

func (m *Mailer) tlsConfig() *tls.Config {
	if m.TLSConfig != nil {
		return m.TLSConfig.Clone()
	}
	return &tls.Config{ServerName: m.host, MinVersion: tls.VersionTLS12}
}

// message renders an RFC 5322 message: encoded headers, quoted-printable
// UTF-8 body, CRLF line ends.
func (m *Mailer) message(to *mail.Address, subject, text string) []byte {
	var b bytes.Buffer
	var id [12]byte
	_, _ = rand.Read(id[:])
	domain := m.from.Address[strings.LastIndexByte(m.from.Address, '@')+1:]
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", m.from.String())
	hdr("To", to.String())
	hdr("Subject", mime.QEncoding.Encode("utf-8", subject))
	hdr("Date", m.clk.Now().Format(time.RFC1123Z))
	hdr("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+domain+">")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	hdr("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}
