package delivery

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
)

// sender renders, signs, gzips and POSTs batches. It is shared by every
// dispatcher and by replay jobs; all its state is safe for concurrent use.
type sender struct {
	cfg      Config
	clock    clock.Clock
	log      *slog.Logger
	metrics  *metrics
	signer   audit.Signer
	renderer audit.Renderer
	// Two clients because TLS verification is a transport setting; each
	// keeps its idle connections per host for keep-alive.
	verified, unverified *http.Client
	flatePool            sync.Pool // *flate.Writer (deflate.go)
	chunkPool            sync.Pool // *chunk
}

func newSender(cfg Config, deps Deps, m *metrics) *sender {
	return &sender{
		cfg: cfg, clock: deps.Clock, log: deps.Logger, metrics: m,
		signer: deps.Signer, renderer: deps.Renderer,
		verified:   newClient(cfg, false),
		unverified: newClient(cfg, true),
	}
}

func newClient(cfg Config, skipVerify bool) *http.Client {
	dialer := &net.Dialer{Timeout: cfg.RequestTimeout, KeepAlive: 30 * time.Second}
	if !cfg.InsecureDestinations {
		dialer.Control = dialControl
	}
	t := &http.Transport{
		// No proxy: a proxy would make the dial guard check the proxy's
		// address instead of the destination's.
		Proxy:               nil,
		DialContext:         dialer.DialContext,
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: skipVerify, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: cfg.RequestTimeout,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{
		Transport: t,
		// A redirect is an answer to report, not to follow: following it
		// could carry the authorization to another host.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (s *sender) closeIdle() {
	s.verified.CloseIdleConnections()
	s.unverified.CloseIdleConnections()
}

// rendered is a batch ready to send.
type rendered struct {
	size  int // signed lines joined by \n, uncompressed, in bytes
	n     int // entries it holds, a prefix of those given
	gz    []byte
	first int64
	last  int64
	// checkpoint: the batch ends with the checkpoint line it was given.
	checkpoint bool
}

// render renders and signs the longest prefix of entries that fits the
// batch caps (always at least one entry) and gzips it.
func (s *sender) render(lf lineFormat, entries []store.StoredEntry) (rendered, error) {
	if len(entries) > s.cfg.MaxBatchLines {
		entries = entries[:s.cfg.MaxBatchLines]
	}
	entries = entries[:fitting(entries, s.cfg.MaxBatchBytes)]
	chunks := s.renderLines(lf, entries)
	if lf.checkpoint != nil {
		chunks = append(chunks, lineChunk(lf.checkpoint))
	}
	defer s.release(chunks)
	gz, size, n, err := s.gzip(chunks)
	if err != nil {
		return rendered{}, err
	}
	withCP := n > len(entries)
	n = min(n, len(entries))
	return rendered{size: size, n: n, gz: gz, first: entries[0].Seq, last: entries[n-1].Seq, checkpoint: withCP}, nil
}

// fitting returns how many entries could fit maxBytes, judged by a lower
// bound of each line's length (fields every kind emits, the timestamp and
// the signature), so that a batch of huge entries is not rendered and
// signed only to be cut. The exact cut is made after rendering.
func fitting(entries []store.StoredEntry, maxBytes int) int {
	total := 0
	for i := range entries {
		e := &entries[i].Entry
		total += len(e.Src) + len(e.OrgID) + len(e.PrincipalID) + len(e.TraceID) + len(e.UserAgent) +
			len(e.ClassID) + len(e.Name) + len(e.Product) + len("2006-01-02T15:04:05Z") + len(" sig=") + audit.SigLen
		if total > maxBytes && i > 0 {
			return i
		}
		total++ // the newline
	}
	return len(entries)
}

// lineChunk is a chunk of one line (a checkpoint line), not deflated yet.
func lineChunk(line []byte) *chunk {
	buf := append(append(make([]byte, 0, len(line)+1), line...), '\n')
	return &chunk{buf: buf, ends: []int{len(buf)}}
}

// chunk is the signed lines of one signing worker, each followed by \n;
// ends[i] is the offset just past line i's newline.
type chunk struct {
	buf  []byte
	ends []int
	// Scratch of appendLinesBatch: the unsigned lines, and the slices and
	// signatures SignBatch takes.
	raw        []byte
	msgs, sigs [][]byte
	sigBuf     []byte
	// z is buf deflated (deflate.go); zLast: without its final newline,
	// as the last chunk of a batch.
	z     []byte
	zLast bool
}

// renderLines signs lines in parallel chunks: signing is most of the CPU
// cost of a batch. The chunks' buffers come from a pool (release returns
// them), since a batch's lines are garbage once gzipped. A chunk is
// renderPiece lines and the workers take the next one in turn, so a worker
// the machine preempts holds the batch up by at most one chunk, not by its
// whole share (on a shared machine the other core is often busy).
func (s *sender) renderLines(lf lineFormat, entries []store.StoredEntry) []*chunk {
	pieces := (len(entries) + renderPiece - 1) / renderPiece
	workers := min(s.cfg.SignWorkers, pieces)
	if workers > len(entries)/64 {
		workers = len(entries) / 64 // small batches are not worth the goroutines
	}
	chunks := make([]*chunk, pieces)
	var next atomic.Int64
	work := func() {
		for {
			p := int(next.Add(1)) - 1
			if p >= pieces {
				return
			}
			lo, hi := p*renderPiece, min((p+1)*renderPiece, len(entries))
			c, _ := s.chunkPool.Get().(*chunk)
			if c == nil {
				c = &chunk{buf: make([]byte, 0, renderPiece*512), ends: make([]int, 0, renderPiece)}
			}
			c.buf, c.ends = c.buf[:0], c.ends[:0]
			if bs, ok := s.signer.(audit.BatchSigner); ok && hi-lo > 1 {
				s.appendLinesBatch(c, bs, lf, entries[lo:hi])
			} else {
				for i := lo; i < hi; i++ {
					c.buf = s.appendLine(c.buf, lf, &entries[i])
					c.buf = append(c.buf, '\n')
					c.ends = append(c.ends, len(c.buf))
				}
			}
			s.deflateChunk(c, p == pieces-1)
			chunks[p] = c
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Add(1)
		go func() { defer wg.Done(); work() }()
	}
	work()
	wg.Wait()
	return chunks
}

// renderPiece is the lines of one chunk of renderLines.
const renderPiece = 64

// release returns chunk buffers to the pool, except outsized ones (a batch
// of huge lines) that would pin memory.
func (s *sender) release(chunks []*chunk) {
	for _, c := range chunks {
		if cap(c.buf) <= 2*s.cfg.MaxBatchBytes {
			s.chunkPool.Put(c)
		}
	}
}

// answer is the outcome of one POST.
type answer struct {
	status     int // 0: no HTTP answer
	message    string
	retryAfter time.Duration
}

func (a answer) ok() bool { return a.status >= 200 && a.status < 300 }

// retryable: no answer at all (connection error, timeout), 429 or 5xx.
func (a answer) retryable() bool { return a.status == 0 || retryable(a.status) }

func (a answer) result() string {
	switch {
	case a.ok():
		return resultOK
	case a.status == 0:
		return resultError
	case retryable(a.status):
		return resultRetryable
	}
	return resultRejected
}

// post makes one attempt. The per-request timeout covers connect to the
// end of the answer's headers and the short read of its body.
func (s *sender) post(ctx context.Context, dest store.Destination, gz []byte) answer {
	if err := s.checkScheme(dest.Endpoint); err != nil {
		return answer{message: err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dest.Endpoint, bytes.NewReader(gz))
	if err != nil {
		return answer{message: "invalid endpoint"}
	}
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("User-Agent", "sigtrail")
	if dest.Authorization != "" {
		req.Header.Set("Authorization", dest.Authorization)
	}
	client := s.verified
	if dest.SkipSSLVerification {
		client = s.unverified
	}
	s.metrics.sentBytes.Add(float64(len(gz)))
	resp, err := client.Do(req)
	if err != nil {
		return answer{message: connMessage(err)}
	}
	defer resp.Body.Close()
	// Read a little of the body for the status message, and drain a bit
	// more so that the connection can be reused. The read goes a secret's
	// length past the excerpt so that a secret starting inside the excerpt
	// is whole when redacted.
	limit := int64(2*maxExcerpt + 2*len(dest.Authorization))
	head, _ := io.ReadAll(io.LimitReader(resp.Body, limit))
	if int64(len(head)) == limit && len(dest.Authorization) > 1 {
		// The read may have cut a secret in two: drop what could be the
		// start of one, which redaction could not recognise.
		head = head[:len(head)-len(dest.Authorization)+1]
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	a := answer{status: resp.StatusCode, message: statusMessage(resp.StatusCode, head, secretsOf(dest.Authorization))}
	if a.status == http.StatusTooManyRequests || a.status == http.StatusServiceUnavailable {
		a.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), s.clock.Now())
	}
	return a
}

func (s *sender) checkScheme(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return errors.New("invalid endpoint")
	}
	if u.Scheme == "https" || (u.Scheme == "http" && s.cfg.InsecureDestinations) {
		return nil
	}
	return errors.New("endpoint must use https")
}

// connMessage describes a failed request without the URL (which may hold
// a token in its query) and without internal detail beyond the cause.
func connMessage(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var fe *errForbiddenAddr
	switch {
	case errors.As(err, &fe):
		return fe.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return "request timed out"
	case errors.Is(err, context.Canceled):
		return "request canceled"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "request timed out"
	}
	return "connection error: " + sanitize(err.Error(), nil)
}

// statusMessage is the status line and a sanitized excerpt of the body.
func statusMessage(code int, body []byte, secrets []string) string {
	msg := fmt.Sprintf("%d %s", code, http.StatusText(code))
	if b := sanitize(string(body), secrets); b != "" {
		msg += ": " + b
	}
	return msg
}

// sendRetrying sends one rendered batch under the retry policy. attempt is
// told of every attempt (the dispatcher records it as the webhook status).
// It returns the last answer; ctx's error when it ended first.
func (s *sender) sendRetrying(ctx context.Context, dest store.Destination, gz []byte, attempt func(answer)) (answer, error) {
	return s.send(ctx, dest, gz, s.cfg.Retry.MaxRetries, attempt)
}

// send is sendRetrying with at most retries retries (0: one attempt).
func (s *sender) send(ctx context.Context, dest store.Destination, gz []byte, retries int, attempt func(answer)) (answer, error) {
	p := s.cfg.Retry
	for n := 0; ; n++ {
		if n > 0 {
			s.metrics.retries.Inc()
		}
		a := s.post(ctx, dest, gz)
		if err := ctx.Err(); err != nil {
			return a, err // canceled mid-request: the outcome says nothing of the destination
		}
		s.metrics.attempts.WithLabelValues(a.result()).Inc()
		if attempt != nil {
			attempt(a)
		}
		if a.ok() || !a.retryable() || n >= retries {
			return a, nil
		}
		t := s.clock.NewTimer(p.wait(n, a.retryAfter))
		select {
		case <-ctx.Done():
			t.Stop()
			return a, ctx.Err()
		case <-t.C():
		}
	}
}

// observeDelivered counts a delivered batch; latency is observed for live
// deliveries only, since a resend or replay is late on purpose.
func (s *sender) observeDelivered(r rendered, entries []store.StoredEntry, live bool) {
	m := s.metrics
	m.batches.WithLabelValues("delivered").Inc()
	m.entries.WithLabelValues("delivered").Add(float64(r.n))
	m.batchLines.Observe(float64(r.n))
	m.batchBytes.Observe(float64(r.size))
	if !live {
		return
	}
	now := s.clock.Now()
	for i := range entries[:r.n] {
		m.latency.Observe(now.Sub(entries[i].Entry.Time).Seconds())
	}
}

func (s *sender) observeFailed(r rendered) {
	m := s.metrics
	m.batches.WithLabelValues("failed").Inc()
	m.entries.WithLabelValues("failed").Add(float64(r.n))
	m.batchLines.Observe(float64(r.n))
	m.batchBytes.Observe(float64(r.size))
}

// SendError says why a batch was not delivered. Message is safe to show to
// the org's admins (it names the answer or the connection failure).
type SendError struct {
	Status  int // last HTTP status, 0 when there was no answer
	Message string
}

func (e *SendError) Error() string { return "delivery failed: " + e.Message }
