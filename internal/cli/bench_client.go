package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// benchConn is one producer's keep-alive HTTP/1.1 connection, written and
// read by the goroutine that owns it. net/http's Transport hands every
// request to a write goroutine and every response to a read goroutine:
// four goroutine switches a request, which at one event per request cost
// the bench about as much CPU as the server's HTTP serving on the two cores
// they share (docs/performance.md). Producers of a server reached over
// https go through net/http (benchPost).
type benchConn struct {
	addr, host, path, token string
	conn                    net.Conn
	br                      *bufio.Reader
	bw                      *bufio.Writer
	head                    []byte
}

// newBenchConn returns a producer connection to server, or nil when server
// is not plain http (the caller then uses net/http).
func newBenchConn(server, token string) (*benchConn, error) {
	u, err := url.Parse(server)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, nil
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	return &benchConn{addr: addr, host: u.Host, path: u.Path + "/v1/entries", token: token}, nil
}

// post sends one ingest request and reads its answer. A connection the
// server closed between requests is dialled again once.
func (c *benchConn) post(ctx context.Context, body []byte) error {
	fresh := c.conn == nil
	if err := c.dial(ctx); err != nil {
		return err
	}
	resp, err := c.roundTrip(ctx, body)
	if err != nil && !fresh && ctx.Err() == nil {
		c.close()
		if err = c.dial(ctx); err != nil {
			return err
		}
		resp, err = c.roundTrip(ctx, body)
	}
	if err != nil {
		c.close()
		return err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		c.close()
		return err
	}
	if resp.Close {
		c.close()
	}
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("ingest answered %d: %s", resp.StatusCode, oneLine(string(b)))
	}
	return nil
}

func (c *benchConn) dial(ctx context.Context) error {
	if c.conn != nil {
		return nil
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	c.conn, c.br, c.bw = conn, bufio.NewReaderSize(conn, 4096), bufio.NewWriterSize(conn, 8192)
	return nil
}

func (c *benchConn) roundTrip(ctx context.Context, body []byte) (*http.Response, error) {
	// A cancelled run must not wait for an answer that may never come.
	conn := c.conn
	defer context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })()
	c.head = append(c.head[:0], "POST "...)
	c.head = append(c.head, c.path...)
	c.head = append(c.head, " HTTP/1.1\r\nHost: "...)
	c.head = append(c.head, c.host...)
	c.head = append(c.head, "\r\nUser-Agent: sigtrail-bench\r\nAuthorization: Bearer "...)
	c.head = append(c.head, c.token...)
	c.head = append(c.head, "\r\nContent-Type: application/x-ndjson\r\nContent-Length: "...)
	c.head = strconv.AppendInt(c.head, int64(len(body)), 10)
	c.head = append(c.head, "\r\n\r\n"...)
	c.bw.Write(c.head)
	c.bw.Write(body)
	if err := c.bw.Flush(); err != nil {
		return nil, err
	}
	return http.ReadResponse(c.br, nil)
}

func (c *benchConn) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}
