package api

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sigtrail/sigtrail/internal/clock"
)

// Ingest body pacing: a producer must keep its body arriving, or it is cut
// with a 408 and its share of the in-flight budget is given back. Without
// it the only bound was the server's ReadTimeout (a minute), and a few
// clients trickling large bodies held the whole budget that long, every
// honest producer meanwhile getting 503s.
const (
	// DefaultIngestBodyStallTimeout is the longest a read of an ingest body
	// may wait for its next bytes. Five seconds outlasts the retransmission
	// backoff of a lossy but working link.
	DefaultIngestBodyStallTimeout = 5 * time.Second
	// DefaultIngestMinBodyRate is the average, in bytes per second, an
	// ingest body must keep after DefaultIngestBodyGrace: a full 16 MiB request
	// within about four minutes, 40 times slower than an 8 Mbit/s link.
	DefaultIngestMinBodyRate = 64 << 10
	// DefaultIngestBodyGrace is the time a body has before the average
	// rate counts, so that a slow start (TCP's slow start, a busy producer)
	// is not mistaken for a slowloris.
	DefaultIngestBodyGrace = 5 * time.Second
)

// errTooSlow is a body that stopped arriving or arrived below the minimum
// rate; why says which.
type errTooSlow struct{ why string }

func (e *errTooSlow) Error() string { return "ingest: body " + e.why }

// Reasons a body is cut, the label of sigtrail_ingest_too_slow_total.
const (
	slowStalled   = "stalled"    // no bytes for the stall timeout
	slowBelowRate = "below_rate" // the average fell under the floor
	slowTooLong   = "too_long"   // the server's ReadTimeout ended first
)

// bodyPace decides when the next bytes of a body must have arrived.
type bodyPace struct {
	stall time.Duration // longest wait for the next bytes
	rate  int64         // bytes per second after grace; 0: no floor
	grace time.Duration
	start time.Time // when the handler began reading
	end   time.Time // the whole body by then (the server's ReadTimeout); zero: none
}

// deadline is when bytes after the first read ones must have arrived,
// asked at now, and which limit it is.
func (p bodyPace) deadline(now time.Time, read int64) (time.Time, string) {
	d, why := now.Add(p.stall), slowStalled
	if p.rate > 0 {
		// read bytes by start+grace+read/rate keep the average at rate.
		if r := p.start.Add(p.grace + time.Duration(read)*time.Second/time.Duration(p.rate)); r.Before(d) {
			d, why = r, slowBelowRate
		}
	}
	if !p.end.IsZero() && p.end.Before(d) {
		d, why = p.end, slowTooLong
	}
	return d, why
}

// pacedBody reads a request body under bodyPace, setting the connection's
// read deadline before each read. Socket deadlines are wall-clock times,
// so wall is the real clock, whatever clock the API is given.
type pacedBody struct {
	r    io.ReadCloser
	rc   *http.ResponseController
	wall clock.Clock
	pace bodyPace
	read int64
	why  string // the limit of the deadline set last
	off  bool   // the connection takes no deadlines: the server's ReadTimeout alone bounds the body
}

// pacedReader paces r's body; w must be the connection's own writer (or
// one that unwraps to it), which carries the read deadline.
func (s *server) pacedReader(w http.ResponseWriter, r *http.Request) *pacedBody {
	now := s.wall.Now()
	p := &pacedBody{r: r.Body, rc: http.NewResponseController(w), wall: s.wall,
		pace: bodyPace{stall: s.cfg.IngestBodyStallTimeout, rate: s.cfg.IngestMinBodyRate, grace: s.cfg.IngestBodyGrace, start: now}}
	if hs, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok && hs.ReadTimeout > 0 {
		// Deadlines set here replace the server's: keep its bound on the
		// whole request, so pacing only ever cuts sooner.
		p.pace.end = now.Add(hs.ReadTimeout)
	}
	return p
}

func (p *pacedBody) Read(b []byte) (int, error) {
	if !p.off {
		var d time.Time
		d, p.why = p.pace.deadline(p.wall.Now(), p.read)
		if err := p.rc.SetReadDeadline(d); err != nil {
			p.off = true
		}
	}
	n, err := p.r.Read(b)
	p.read += int64(n)
	switch {
	case err == nil:
	case errors.Is(err, os.ErrDeadlineExceeded):
		return n, &errTooSlow{why: p.why}
	case err == io.EOF && !p.off:
		// The body is in: a deadline left set would cut the connection's
		// background read while the entries are appended.
		_ = p.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// newIngestSlowCounter is sigtrail_ingest_too_slow_total, registered on r
// when there is one; a second API on the same registry (tests, a restart
// in process) counts into the series already there.
func newIngestSlowCounter(r prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sigtrail_ingest_too_slow_total",
		Help: "Ingest requests cut with 408 because the body arrived too slowly, by reason (stalled, below_rate, too_long).",
	}, []string{"reason"})
	if r == nil {
		return c
	}
	if err := r.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing
			}
		}
		// Another series of that name: count here, unexported, rather
		// than fail the API over a metric.
	}
	return c
}

// Close closes the request body (http.MaxBytesReader wants a ReadCloser).
func (p *pacedBody) Close() error { return p.r.Close() }
