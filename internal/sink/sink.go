package sink

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sigtrail/sigtrail/internal/clock"
)

// DefaultMaxBody caps one request body after decompression, so a gzip bomb
// costs at most this much memory.
const DefaultMaxBody = 64 << 20

// Config sets up a sink. The zero value accepts everything and keeps
// nothing but counts.
type Config struct {
	Out  io.Writer // every received line, each ended by \n; nil keeps none
	Keys *KeySet   // nil: signatures are not checked
	// VerifyEvery checks one line in N (1 or 0: every line); throughput
	// runs check a sample.
	VerifyEvery int
	// FailRate is the fraction of requests answered with a failure instead
	// of being accepted; FailStatus is that answer (500 when 0), or, with
	// Reset, the connection is dropped without an answer.
	FailRate   float64
	FailStatus int
	Reset      bool
	// RetryAfter, when set, is sent with injected 429 and 503 answers.
	RetryAfter time.Duration
	Delay      time.Duration // wait before answering each webhook request
	MaxBody    int64         // DefaultMaxBody when 0
	// Match, when set, narrows what is counted, checked and kept to the
	// lines that contain it (a benchmark's own entries); the others are
	// only counted as OtherLines.
	Match  []byte
	Clock  clock.Clock // clock.Real when nil
	Rand   func() float64
	Logger *slog.Logger
}

// Stats is what GET /stats answers.
type Stats struct {
	Requests         int64      `json:"requests"` // webhook requests accepted
	Lines            int64      `json:"lines"`
	Verified         int64      `json:"verified"`
	Failed           int64      `json:"failed"`
	Bytes            int64      `json:"bytes"`      // bytes of the counted lines, each with its newline
	WireBytes        int64      `json:"wire_bytes"` // request bodies as sent
	FailuresInjected int64      `json:"failures_injected"`
	BadRequests      int64      `json:"bad_requests"`
	OtherLines       int64      `json:"other_lines,omitempty"` // lines without Config.Match
	FirstReceipt     *time.Time `json:"first_receipt,omitempty"`
	LastReceipt      *time.Time `json:"last_receipt,omitempty"`
	LastFailure      string     `json:"last_failure,omitempty"`
	// LatencyMS is receipt time minus each line's rt, for lines whose rt
	// could be read.
	LatencyMS *Latency `json:"latency_ms,omitempty"`
}

// Sink receives webhook requests. It is an http.Handler: POST to any path
// but /stats delivers a batch; GET /stats reports; POST /stats/reset zeroes
// the counters; GET /healthz answers 200.
type Sink struct {
	cfg Config
	log *slog.Logger

	outMu sync.Mutex
	out   *bufio.Writer

	mu      sync.Mutex
	stats   Stats
	lat     *latency
	counter int64 // lines seen, for VerifyEvery

	// gzReaders reuses gzip readers (each holds a 32 KiB window and its
	// tables): at tens of batches a second, fresh ones were most of the
	// sink's garbage.
	gzReaders sync.Pool // *gzip.Reader
}

// New returns a sink.
func New(cfg Config) (*Sink, error) {
	if cfg.FailRate < 0 || cfg.FailRate > 1 {
		return nil, errors.New("sink: fail rate must be within [0, 1]")
	}
	if cfg.FailStatus == 0 {
		cfg.FailStatus = http.StatusInternalServerError
	}
	if cfg.FailStatus < 100 || cfg.FailStatus > 599 {
		return nil, fmt.Errorf("sink: fail status %d is not an HTTP status", cfg.FailStatus)
	}
	if cfg.VerifyEvery <= 0 {
		cfg.VerifyEvery = 1
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sink{cfg: cfg, log: cfg.Logger, lat: newLatency()}
	if cfg.Out != nil {
		s.out = bufio.NewWriterSize(cfg.Out, 256<<10)
	}
	return s, nil
}

// Stats returns a copy of the counters.
func (s *Sink) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.LatencyMS = s.lat.summary()
	return st
}

// ResetStats zeroes the counters and the latency histogram.
func (s *Sink) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = Stats{}
	s.lat = newLatency()
	s.counter = 0
}

func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/stats" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.Stats())
	case r.URL.Path == "/stats/reset" && r.Method == http.MethodPost:
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/healthz" && r.Method == http.MethodGet:
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodPost:
		s.receive(w, r)
	default:
		w.Header().Set("Allow", "POST")
		http.Error(w, "POST webhook batches here", http.StatusMethodNotAllowed)
	}
}

func (s *Sink) receive(w http.ResponseWriter, r *http.Request) {
	wire, err := readBody(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody), r.ContentLength, s.cfg.MaxBody)
	if err != nil {
		s.bad(w, "reading the body: "+err.Error())
		return
	}
	body := wire
	if isGzip(r.Header.Get("Content-Encoding")) {
		if body, err = s.gunzip(wire, s.cfg.MaxBody); err != nil {
			s.bad(w, "gzip body: "+err.Error())
			return
		}
	}
	if s.cfg.Delay > 0 {
		t := s.cfg.Clock.NewTimer(s.cfg.Delay)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C():
		}
	}
	if s.cfg.FailRate > 0 && s.cfg.Rand() < s.cfg.FailRate {
		s.inject(w)
		return
	}
	s.accept(r.Context(), body, len(wire))
	w.WriteHeader(http.StatusOK)
}

func (s *Sink) inject(w http.ResponseWriter) {
	s.mu.Lock()
	s.stats.FailuresInjected++
	s.mu.Unlock()
	if s.cfg.Reset {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // HTTP/2: abort the stream instead
	}
	if s.cfg.RetryAfter > 0 && (s.cfg.FailStatus == http.StatusTooManyRequests || s.cfg.FailStatus == http.StatusServiceUnavailable) {
		w.Header().Set("Retry-After", fmt.Sprint(int(s.cfg.RetryAfter.Seconds())))
	}
	http.Error(w, "failure injected by sigtrail sink", s.cfg.FailStatus)
}

func (s *Sink) bad(w http.ResponseWriter, msg string) {
	s.mu.Lock()
	s.stats.BadRequests++
	s.stats.LastFailure = msg
	s.mu.Unlock()
	http.Error(w, msg, http.StatusBadRequest)
}

// accept keeps, checks and counts the lines of one accepted batch.
func (s *Sink) accept(ctx context.Context, body []byte, wireLen int) {
	now := s.cfg.Clock.Now()
	nowMS := now.UnixMilli()
	var lines, verified, failed, other, lineBytes int64
	var lastFailure string
	var lats []int64
	var kept [][]byte // lines without CR and blank lines, for Out

	s.mu.Lock()
	first := s.counter
	s.mu.Unlock()

	rest := body
	for len(rest) > 0 {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			continue
		}
		if s.cfg.Match != nil && !bytes.Contains(line, s.cfg.Match) {
			other++
			continue
		}
		if s.out != nil {
			kept = append(kept, line)
		}
		if rt, ok := lineRT(line); ok {
			lats = append(lats, nowMS-rt)
		}
		if s.cfg.Keys != nil && (first+lines)%int64(s.cfg.VerifyEvery) == 0 {
			if err := s.cfg.Keys.Verify(ctx, line); err != nil {
				failed++
				lastFailure = fmt.Sprintf("line %d of a batch: %v", lines+1, err)
			} else {
				verified++
			}
		}
		lines++
		lineBytes += int64(len(line)) + 1
	}

	if s.out != nil {
		s.outMu.Lock()
		for _, l := range kept {
			_, _ = s.out.Write(l)
			_ = s.out.WriteByte('\n')
		}
		if err := s.out.Flush(); err != nil {
			s.log.Error("sink: writing lines failed", "err", err)
		}
		s.outMu.Unlock()
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	st := &s.stats
	st.Requests++
	st.Lines += lines
	st.OtherLines += other
	st.Verified += verified
	st.Failed += failed
	st.Bytes += lineBytes
	st.WireBytes += int64(wireLen)
	s.counter += lines
	if st.FirstReceipt == nil {
		t := now
		st.FirstReceipt = &t
	}
	t := now
	st.LastReceipt = &t
	if lastFailure != "" {
		st.LastFailure = lastFailure
	}
	for _, l := range lats {
		s.lat.add(l)
	}
}

// isGzip accepts the token sigtrail sends (gzip) and the one Kong's
// reference names (application/gzip).
func isGzip(enc string) bool {
	for _, t := range strings.Split(enc, ",") {
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "gzip", "x-gzip", "application/gzip":
			return true
		}
	}
	return false
}

// readBody reads a request body into one buffer sized from its declared
// length (capped at limit), so a large batch is not grown by doubling.
func readBody(r io.Reader, length, limit int64) ([]byte, error) {
	if length <= 0 || length > limit {
		return io.ReadAll(r)
	}
	buf := bytes.NewBuffer(make([]byte, 0, length+bytes.MinRead))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// gunzip inflates b, refusing more than limit bytes. The buffer is sized
// from the gzip trailer's length (a hint only: it is the size modulo 2^32
// and a sender could lie), capped at limit.
func (s *Sink) gunzip(b []byte, limit int64) ([]byte, error) {
	zr, _ := s.gzReaders.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(bytes.NewReader(b))
	} else {
		err = zr.Reset(bytes.NewReader(b))
	}
	if err != nil {
		return nil, err
	}
	defer s.gzReaders.Put(zr)
	hint := int64(64 << 10)
	if len(b) >= 4 {
		hint = int64(binary.LittleEndian.Uint32(b[len(b)-4:]))
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(hint, limit)+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(zr, limit+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > limit {
		return nil, fmt.Errorf("larger than %d bytes uncompressed", limit)
	}
	return buf.Bytes(), nil
}
