package api

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// IngestMaxBody is the largest ingest request body.
const IngestMaxBody = ingestMaxBody

// Ingest limits.
const (
	// ingestMaxBody caps one request: about 40,000 typical entries.
	ingestMaxBody = 16 << 20
	// ingestMaxLine caps one entry, far above any real one.
	ingestMaxLine = 64 << 10
	// ingestMaxErrors caps the lines a 400 names; fixing those and trying
	// again reveals any others.
	ingestMaxErrors = 100
	// ingestMaxFuture is how far ahead of the server's clock an entry's
	// time may be.
	ingestMaxFuture = time.Hour
	// ingestRecordTimeout bounds the append of one request, which no
	// longer ends when the producer hangs up (as audit entries, router.go).
	ingestRecordTimeout = 30 * time.Second
)

// ingestRoutes serves the ingest API for trusted producers.
func (s *server) ingestRoutes() []route {
	return []route{
		{method: http.MethodPost, path: "/v1/entries", resource: resEntries, action: audit.ActionCreate, roles: producers(),
			maxBody: ingestMaxBody, selfRecording: true, handle: s.ingest},
	}
}

// authTypeClassIDs are the authentication types Kong documents, the only
// event class ids an authentication entry may carry.
var authTypeClassIDs = map[string]bool{
	"AUTHENTICATION_TYPE_INVALID": true, "AUTHENTICATION_TYPE_BASIC": true, "AUTHENTICATION_TYPE_SSO": true,
	"AUTHENTICATION_TYPE_PAT": true, "AUTHENTICATION_TYPE_SPAT": true, "AUTHENTICATION_TYPE_GOOGLE": true,
	"AUTHENTICATION_TYPE_GITHUB": true, "AUTHENTICATION_TYPE_WINDOWSLIVE": true, "AUTHENTICATION_TYPE_FEDERATED": true,
}

// ingest appends a batch of entries, one JSON line each, all or none: every
// line is parsed and checked before anything is stored, and the answer
// (202 with the count) leaves only once the entries are durable.
func (s *server) ingest(c *call) error {
	ct := c.r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/x-ndjson" {
		return apperr.New(apperr.Unsupported, "Content-Type must be application/x-ndjson")
	}
	if ce := c.r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return apperr.New(apperr.Unsupported, "Content-Encoding %q is not supported; send the body uncompressed", ce)
	}
	if c.r.ContentLength > ingestMaxBody {
		return tooLarge()
	}
	body, release, err := s.ingestBudget.reader(http.MaxBytesReader(c.w, s.pacedReader(c.conn, c.r), ingestMaxBody), c.r.ContentLength, ingestMaxBody)
	defer release()
	if err != nil {
		return overBudget(c)
	}
	p := ingestParser{s: s, c: c, now: c.now(), portals: map[string]bool{}}
	entries, err := p.parse(body, c.r.ContentLength)
	if errors.Is(err, errOverBudget) {
		return overBudget(c)
	}
	if slow := (*errTooSlow)(nil); errors.As(err, &slow) {
		return s.tooSlow(c, slow)
	}
	if err != nil {
		return err
	}
	if err := s.recordIngested(c, entries); err != nil {
		return err
	}
	return c.json(http.StatusAccepted, struct {
		Accepted int `json:"accepted"`
	}{len(entries)})
}

// overBudget refuses a request that would take the ingest bodies in
// flight past their bound. Nothing of it is stored; the ones in flight end
// within about a second, so the producer may try again that soon.
func overBudget(c *call) error {
	c.w.Header().Set("Retry-After", "1")
	return apperr.New(apperr.Unavailable, "The server is ingesting as much as it is configured to hold; nothing was accepted, try again shortly")
}

// tooSlow answers a request whose body stopped arriving or arrived too
// slowly. Its budget is released as the handler returns; nothing of it is
// stored. The connection cannot carry another request (its read side is
// past the deadline), so it is closed after the answer.
func (s *server) tooSlow(c *call, slow *errTooSlow) error {
	s.ingestSlow.WithLabelValues(slow.why).Inc()
	s.log.Warn("ingest: body too slow, request cut", "trace_id", c.traceID, "src", c.src, "reason", slow.why)
	c.w.Header().Set("Connection", "close")
	var why string
	switch slow.why {
	case slowStalled:
		why = "no bytes of it arrived for " + s.cfg.IngestBodyStallTimeout.String()
	case slowBelowRate:
		why = "it arrived slower than " + strconv.FormatInt(s.cfg.IngestMinBodyRate, 10) + " bytes/s"
	default:
		why = "it did not arrive within the server's read timeout"
	}
	return apperr.New(apperr.Timeout, "The request body arrived too slowly (%s); nothing was accepted, send it again", why)
}

func tooLarge() error {
	return apperr.New(apperr.TooLarge, "Request body is larger than %d bytes; send fewer entries per request", int64(ingestMaxBody))
}

// recordIngested appends the entries. A producer that hangs up does not
// cancel the append: SQLite may commit a request whose caller stopped
// waiting, so the outcome must not depend on the connection, and the
// entries are stored (and delivered) whether or not anyone reads the 202.
// The timeout bounds how long a stuck store holds the request.
func (s *server) recordIngested(c *call, entries []store.NewEntry) error {
	// The producer is told an append it stopped waiting for may have been
	// stored and sends it again, so a backend may drop one still queued.
	ctx, cancel := context.WithTimeout(store.DropIfAbandoned(context.WithoutCancel(c.ctx())), ingestRecordTimeout)
	defer cancel()
	_, err := s.rec.Record(ctx, entries)
	if err == nil {
		return nil
	}
	s.log.Error("ingest: recording entries", "trace_id", c.traceID, "entries", len(entries), "err", err)
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.Is(err, store.ErrMaybeStored) {
		// The store stopped being waited for, not necessarily working:
		// the commit may still land.
		return apperr.New(apperr.Unavailable, "The event log did not confirm the entries in time; they may have been stored, and sending them again may store them twice")
	}
	return apperr.New(apperr.Unavailable, "The event log is unavailable; nothing was accepted, try again later")
}

// ingestParser reads one request's lines and fills in what the server
// decides: org, product, stream and, when absent, time.
type ingestParser struct {
	s       *server
	c       *call
	now     time.Time
	portals map[string]bool // portal id -> belongs to the org, looked up once per request
	params  []apperr.InvalidParam
	err     error // a store failure: the request fails as a whole
}

// parse reads every line. It returns the entries, or a 400 naming up to
// ingestMaxErrors bad lines; nothing is stored either way.
func (p *ingestParser) parse(body io.Reader, length int64) ([]store.NewEntry, error) {
	// Typical lines are 200-400 bytes: size the slice once for the body
	// (length is at most ingestMaxBody), so a large request does not grow
	// it and leave the old arrays to the GC.
	var entries []store.NewEntry
	if length > 0 {
		entries = make([]store.NewEntry, 0, length/200+1)
	}
	sc := bufio.NewScanner(body)
	// A body of one event needs no 64 KiB buffer (which, zeroed per
	// request, was a visible share of the CPU at one event per request);
	// a longer line grows it up to ingestMaxLine.
	bufSize := int64(64 << 10)
	if length > 0 && length < bufSize {
		bufSize = length + 1
	}
	sc.Buffer(make([]byte, 0, bufSize), ingestMaxLine)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue // blank lines (a trailing newline) carry nothing
		}
		e, ok := p.line(n, line)
		if p.err != nil {
			return nil, p.err
		}
		if !ok {
			if len(p.params) >= ingestMaxErrors {
				break
			}
			continue
		}
		if len(p.params) == 0 {
			entries = append(entries, e)
		}
	}
	if err := sc.Err(); err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return nil, tooLarge()
		case errors.Is(err, errOverBudget), errors.As(err, new(*errTooSlow)):
			return nil, err
		case errors.Is(err, bufio.ErrTooLong):
			p.bad(n+1, "", "is longer than "+strconv.Itoa(ingestMaxLine)+" bytes")
		default:
			return nil, apperr.New(apperr.Invalid, "Could not read the request body")
		}
	}
	if len(p.params) > 0 {
		return nil, &apperr.Error{Code: apperr.Invalid, Message: "Invalid entries; none were accepted", Params: p.params}
	}
	if len(entries) == 0 {
		return nil, &apperr.Error{Code: apperr.Invalid, Message: "No entries; send one JSON object per line",
			Params: []apperr.InvalidParam{{Field: "body", Reason: "holds no entries", Rule: "required", Source: "body"}}}
	}
	return entries, nil
}

// bad names a wrong field of line n as "line n: field".
func (p *ingestParser) bad(n int, field, reason string) {
	name := "line " + strconv.Itoa(n)
	if field != "" {
		name += ": " + field
	}
	p.params = append(p.params, apperr.InvalidParam{Field: name, Reason: reason, Rule: "invalid", Source: "body"})
}

// line parses and completes one entry.
func (p *ingestParser) line(n int, line []byte) (store.NewEntry, bool) {
	e, err := audit.ParseJSON(line)
	if err != nil {
		var fe *audit.FieldError
		if errors.As(err, &fe) {
			p.bad(n, fe.Field, fe.Reason)
		} else {
			p.bad(n, "", "is not a valid entry")
		}
		return store.NewEntry{}, false
	}
	ok := true
	if e.Kind == audit.KindAuthentication && !authTypeClassIDs[e.ClassID] {
		p.bad(n, "event_class_id", "must be one of the AUTHENTICATION_TYPE_* values")
		ok = false
	}
	if e.OrgID != "" && e.OrgID != p.c.org {
		p.bad(n, "org_id", "must be absent or the token's organization")
		ok = false
	}
	e.OrgID = p.c.org
	e.TokenID = p.c.token.ID // the entry is the request's record (router.go, selfRecording)
	stream, product := store.StreamID(p.c.org), audit.ProductKonnect
	if e.PortalID != "" {
		id, known := canonicalUUID(e.PortalID)
		if known {
			if known, err = p.portal(id); err != nil {
				p.err = err
				return store.NewEntry{}, false
			}
		}
		if !known {
			p.bad(n, "portal_id", "does not name a portal of this organization")
			ok = false
		}
		e.PortalID, stream, product = id, store.StreamID(id), audit.ProductDevPortal
	}
	if e.Product != "" && e.Product != product {
		p.bad(n, "event_product", "must be absent or "+product+" (the server sets it from portal_id)")
		ok = false
	}
	e.Product = product
	switch {
	case e.Time.IsZero():
		e.Time = p.now
	case e.Time.Before(p.now.Add(-p.s.cfg.Retention)):
		p.bad(n, timeField(line), "is older than the retention period ("+humanDuration(p.s.cfg.Retention)+")")
		ok = false
	case e.Time.After(p.now.Add(ingestMaxFuture)):
		p.bad(n, timeField(line), "is more than an hour ahead of the server's clock")
		ok = false
	}
	return store.NewEntry{Stream: stream, Entry: e}, ok
}

// portal says whether the portal belongs to the caller's org, asking the
// store once per request.
func (p *ingestParser) portal(id string) (bool, error) {
	if k, seen := p.portals[id]; seen {
		return k, nil
	}
	pt, err := p.s.st.GetPortal(p.c.ctx(), p.c.org, id)
	switch {
	case err == nil:
		p.portals[id] = pt.OrgID == p.c.org
	case apperr.Is(err, apperr.NotFound):
		p.portals[id] = false
	default:
		return false, err
	}
	return p.portals[id], nil
}

// timeField names the key an entry's time came from.
func timeField(line []byte) string {
	if bytes.Contains(line, []byte(`"rt"`)) {
		return "rt"
	}
	return "event_ts"
}
