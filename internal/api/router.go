package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/httpx"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/tenancy"
)

// authMode says whether a route needs a token and whether it is audited.
type authMode uint8

const (
	// authRequired (the zero value, so a route that forgets to say is safe):
	// a valid token is needed; the request is audited.
	authRequired authMode = iota
	// authNone: public, no token, not audited (JWKS, health, metrics, spec).
	authNone
	// authOptional: a token is used when present to attribute the request to
	// its org; audited either way (unknown routes).
	authOptional
)

// route is one operation. See the comment at the top of routes.go.
type route struct {
	method   string
	path     string
	resource string       // the authorization entry's name is "Authz." + resource
	action   string       // audit.ActionRetrieve, ActionList, ActionEdit, ActionCreate, ActionDelete
	roles    []store.Role // roles granted besides org-admin, which may do everything
	auth     authMode
	maxBody  int64 // cap for c.decode; 0: Config.MaxBodyBytes
	// selfRecording: the entries a successful request writes are its
	// record, each stored with the token's id, so it adds no
	// authentication, authorization or access entries of its own; a failed
	// one is audited like any other request (the ingest API).
	selfRecording bool
	handle        func(c *call) error
}

// call is one request in flight, handed to a route's handler.
type call struct {
	s       *server
	rt      *route
	w       http.ResponseWriter // buffered for audited routes, so the access entry sees the status before the answer leaves
	conn    http.ResponseWriter // the connection's own writer, which takes read deadlines (ingestpace.go)
	r       *http.Request
	traceID string
	src     string

	// org and token are set once the request is authenticated; handlers
	// must scope every read and write to org.
	org   string
	token store.Token

	auditOrg string           // the org whose stream records this request
	pending  []store.NewEntry // audit entries not yet recorded
}

func (c *call) ctx() context.Context { return c.r.Context() }

func (c *call) now() time.Time { return c.s.clk.Now().UTC() }

// orgStream is the org's own event stream.
func (c *call) orgStream() store.StreamID { return store.StreamID(c.org) }

// decode reads the JSON body strictly into dst.
func (c *call) decode(dst any) error {
	limit := c.rt.maxBody
	if limit <= 0 {
		limit = c.s.cfg.MaxBodyBytes
	}
	return httpx.DecodeJSON(c.w, c.r, dst, limit)
}

// json answers with v.
func (c *call) json(status int, v any) error {
	httpx.WriteJSON(c.w, status, v)
	return nil
}

// noContent answers 204.
func (c *call) noContent() error {
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// fail answers with err as problem+json, replacing anything written so far.
func (c *call) fail(err error) {
	if b, ok := c.w.(*bufferedWriter); ok {
		b.reset()
	}
	httpx.WriteError(c.w, c.r, err, c.traceID, c.s.log)
}

// pathUUID returns a path parameter that must be a UUID, or a 400 naming it.
func (c *call) pathUUID(name string) (string, error) {
	v := c.r.PathValue(name)
	id, ok := canonicalUUID(v)
	if !ok {
		return "", apperr.InvalidField("path", name, "is_uuid", "must be a UUID")
	}
	return id, nil
}

// authorize checks that the token's role may act on resource, and records
// the check as an authorization entry. org-admin may do everything.
func (c *call) authorize(resource, action string, roles []store.Role) error {
	granted := c.token.Role == store.RoleOrgAdmin || slices.Contains(roles, c.token.Role)
	e := c.entry(audit.KindAuthorization)
	e.ClassID = audit.AuthzClassID
	e.Name = audit.AuthzNamePrefix + resource
	e.Action = action
	e.Granted = granted
	c.pending = append(c.pending, store.NewEntry{Stream: store.StreamID(c.auditOrg), Entry: e})
	if !granted {
		return apperr.New(apperr.Forbidden, "You do not have permission to perform this action")
	}
	return nil
}

// entry starts an audit entry with the fields every kind carries.
func (c *call) entry(k audit.Kind) audit.Entry {
	return audit.Entry{
		Kind:          k,
		Time:          c.now(),
		Product:       audit.ProductKonnect,
		Src:           c.src,
		OrgID:         c.auditOrg,
		PrincipalID:   c.token.ID,
		PrincipalName: c.token.Name,
		TraceID:       c.traceID,
		UserAgent:     c.r.UserAgent(),
	}
}

// record appends the pending entries durably. It outlives a client that
// hangs up: an attempt is audited whether or not anyone waits for the answer.
func (c *call) record() error {
	if len(c.pending) == 0 {
		return nil
	}
	for i := range c.pending {
		c.pending[i].Entry.CapClientText() // a client's text stays small (audit.MaxRequestText ...)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx()), 30*time.Second)
	defer cancel()
	_, err := c.s.rec.Record(ctx, c.pending)
	if err != nil {
		return apperr.Wrap(err, "record %d audit entries", len(c.pending))
	}
	c.pending = c.pending[:0]
	return nil
}

// register installs the routes and the problem+json answer for unknown
// paths (404) and known paths with another method (405).
func (s *server) register(routes []route) {
	for i := range routes {
		rt := routes[i]
		s.mux.Handle(rt.method+" "+rt.path, s.handler(&rt))
		if _, ok := s.allow[rt.path]; !ok {
			s.paths.Handle(rt.path, http.NotFoundHandler())
		}
		s.allow[rt.path] = append(s.allow[rt.path], rt.method)
		if rt.method == http.MethodGet {
			s.allow[rt.path] = append(s.allow[rt.path], http.MethodHead)
		}
	}
	s.mux.Handle("/", s.handler(&route{auth: authOptional, handle: s.unmatched}))
	s.uncleanPath = s.handler(&route{auth: authOptional, handle: func(c *call) error {
		return apperr.New(apperr.NotFound, "No such resource: %s", c.r.URL.Path)
	}})
}

// cleanPath reports whether ServeMux takes p as it is: no empty, "." or
// ".." segment (a trailing slash is kept by its cleaning, so it is clean).
func cleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

// unmatched answers requests no route takes.
func (s *server) unmatched(c *call) error {
	if _, pattern := s.paths.Handler(c.r); pattern != "" {
		if methods, ok := s.allow[pattern]; ok {
			c.w.Header().Set("Allow", strings.Join(methods, ", "))
			return apperr.New(apperr.MethodNotAllowed, "Method %s is not allowed here; use %s", c.r.Method, strings.Join(methods, ", "))
		}
	}
	return apperr.New(apperr.NotFound, "No such resource: %s", c.r.URL.Path)
}

// handler wraps a route: trace id, authentication, authorization, audit
// entries, panic recovery and problem+json errors.
func (s *server) handler(rt *route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{s: s, rt: rt, r: r, conn: w, traceID: httpx.NewTraceID(), src: httpx.ClientIP(r, s.cfg.TrustedProxies)}
		w.Header().Set(httpx.TraceHeader, c.traceID)
		if rt.auth == authNone {
			c.w = w
			s.run(c)
			return
		}
		buf := newBufferedWriter()
		c.w = buf
		s.serveAudited(c)
		buf.flushTo(w)
	})
}

// serveAudited runs an audited request. For a write, authentication and
// authorization entries are durable before the handler acts; the access
// entry, which needs the status, is durable before the buffered answer is
// sent.
func (s *server) serveAudited(c *call) {
	var authErr error
	if c.sessionPrincipal() {
		// A console user's request: its session was checked by the console.
	} else if c.rt.auth == authRequired || c.r.Header.Get("Authorization") != "" {
		authErr = s.authenticate(c)
	}
	if c.auditOrg == "" {
		id, err := s.systemOrgID(c.ctx())
		if err != nil {
			s.log.Error("system org unavailable; request refused", "trace_id", c.traceID, "err", err)
			c.fail(apperr.New(apperr.Unavailable, "The audit log is unavailable; try again later"))
			return
		}
		c.auditOrg = id
		for i := range c.pending {
			c.pending[i].Stream = store.StreamID(id)
			c.pending[i].Entry.OrgID = id
		}
	}
	switch {
	case c.rt.auth == authRequired && authErr != nil:
		c.fail(authErr)
	case c.rt.auth == authRequired:
		if err := c.authorize(c.rt.resource, c.rt.action, c.rt.roles); err != nil {
			c.fail(err)
			break
		}
		if c.rt.selfRecording {
			s.run(c)
			if b := c.w.(*bufferedWriter); b.status/100 == 2 {
				return // the stored entries are the record
			}
			break // nothing was stored: audited below as any request
		}
		// A request that may change something is on record before it acts.
		// A read changes nothing, so all its entries go in one append at
		// the end, before the answer leaves.
		if !readOnly(c.r.Method) {
			if err := c.record(); err != nil {
				s.log.Error("audit log unavailable; request refused", "trace_id", c.traceID, "err", err)
				c.fail(apperr.New(apperr.Unavailable, "The audit log is unavailable; nothing was done, try again later"))
				break
			}
		}
		s.run(c)
	default:
		s.run(c)
	}

	b := c.w.(*bufferedWriter)
	// Without valid credentials the answer stands as it is, but past the
	// client's budget it is not audited one by one, so that nobody can make
	// the API write without end (unauthbudget.go). Valid credentials never
	// meet the budget.
	if c.org == "" && !s.auditUnauthenticated(c, b.status) {
		c.pending = c.pending[:0] // counted for the report instead
		return
	}
	e := c.entry(audit.KindAccess)
	e.ClassID = audit.AccessClassGateway
	e.Name = audit.AccessName
	e.Request = c.r.URL.Path
	e.Query = c.r.URL.RawQuery
	e.Act = c.r.Method
	e.Status = b.status
	c.pending = append(c.pending, store.NewEntry{Stream: store.StreamID(c.auditOrg), Entry: e})
	if err := c.record(); err != nil {
		if readOnly(c.r.Method) {
			// Nothing changed: refuse rather than serve an unaudited read.
			s.log.Error("audit log unavailable; read refused", "trace_id", c.traceID, "err", err)
			c.fail(apperr.New(apperr.Unavailable, "The audit log is unavailable; try again later"))
			return
		}
		// Whatever the handler did is done and its authorization is on
		// record; answering an error now would only invite a duplicate.
		s.log.Error("audit log unavailable; access entry lost", "trace_id", c.traceID, "err", err)
	}
}

func readOnly(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// authenticate reads the bearer token and records the attempt in the
// token's org (or, for an unknown token, in the system org).
func (s *server) authenticate(c *call) error {
	secret, ok := bearer(c.r)
	var tok store.Token
	var err error
	if !ok {
		err = &apperr.Error{Code: apperr.Unauthorized, Message: "Missing or malformed bearer token", Err: tenancy.ErrNoCredentials}
	} else {
		tok, err = s.tenancy.Authenticate(c.ctx(), secret)
		if err != nil && !apperr.Is(err, apperr.Unauthorized) {
			s.log.Error("authentication failed", "trace_id", c.traceID, "err", err)
			err = apperr.New(apperr.Unavailable, "Authentication is unavailable; try again later")
		}
	}
	c.token = tok // set for an expired token too: its id is the principal of the failed attempt
	if tok.OrgID != "" {
		c.auditOrg = tok.OrgID
	}
	if err == nil {
		c.org = tok.OrgID
	}
	e := c.entry(audit.KindAuthentication)
	e.ClassID = audit.AuthTypePAT
	if tok.System || (tok.ID == "" && tenancy.IsSystemSecret(secret)) {
		e.ClassID = audit.AuthTypeSPAT
	}
	e.Name = string(tenancy.Outcome(err))
	e.Request = c.r.URL.Path
	c.pending = append(c.pending, store.NewEntry{Stream: store.StreamID(c.auditOrg), Entry: e})
	return err
}

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) (string, bool) {
	// Authorization is not a list (RFC 9110): of two, a proxy in front may
	// check one and sigtrail would act on the other.
	if len(r.Header.Values("Authorization")) != 1 {
		return "", false
	}
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// run calls the handler, turning an error or a panic into problem+json.
func (s *server) run(c *call) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic serving request", "trace_id", c.traceID, "method", c.r.Method,
				"path", c.r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			c.fail(errors.New("panic"))
		}
	}()
	// Routes that take a token read parameters; the public ones (health,
	// metrics, JWKS, spec) read none, and a 404 or 405 is about the path.
	if c.rt.auth == authRequired {
		if err := checkQuery(c.r.URL.RawQuery); err != nil {
			c.fail(err)
			return
		}
	}
	if err := c.rt.handle(c); err != nil {
		c.fail(err)
	}
}

// checkQuery refuses a query string that url.Values would read only in
// part. A pair it cannot decode (a stray "%", a ";") is dropped from
// URL.Query() without a word, and of a parameter given twice only the
// first value counts: either way a filter or cursor the client sent would
// be ignored and the answer would look like one to the request it meant.
func checkQuery(raw string) error {
	seen := map[string]string{}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil || strings.Contains(k, ";") {
			return apperr.InvalidField("query", k, "invalid", "is not a well-formed query parameter name (percent-encode %, ; and other reserved characters)")
		}
		val, err := url.QueryUnescape(v)
		if err != nil || strings.Contains(v, ";") {
			return apperr.InvalidField("query", key, "invalid", "has a value that is not well-formed (percent-encode %, ; and other reserved characters)")
		}
		if prev, ok := seen[key]; ok && prev != val {
			return apperr.InvalidField("query", key, "invalid", "is given more than once with different values")
		}
		seen[key] = val
	}
	return nil
}

// bufferedWriter holds an answer until its access entry is recorded.
type bufferedWriter struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func newBufferedWriter() *bufferedWriter {
	return &bufferedWriter{header: http.Header{}, status: http.StatusOK}
}

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(status int) {
	if b.wroteHeader {
		return
	}
	b.wroteHeader = true
	b.status = status
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

// reset drops what was written. Headers that describe the body go with
// it; others (Allow, the trace id) stay.
func (b *bufferedWriter) reset() {
	for _, k := range []string{"Content-Type", "Content-Length", "Content-Encoding"} {
		b.header.Del(k)
	}
	b.status = http.StatusOK
	b.wroteHeader = false
	b.body.Reset()
}

func (b *bufferedWriter) flushTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}
