package api

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// The pull API's page sizes, from the v3 spec.
const (
	pullDefaultPageSize = 20
	pullMaxPageSize     = 1000
)

// auditLogRoutes serves the audit-log pull API: the org's own log, read on
// demand.
func (s *server) auditLogRoutes() []route {
	return []route{
		{method: http.MethodGet, path: "/v3/audit-logs", resource: resAuditLogs, action: audit.ActionList, roles: auditReaders(), handle: s.listAuditLogs},
	}
}

// pullWindow is what a pull walks through: the time bounds, the kind, and
// the highest sequence number of the stream when the first page was read.
// Every later page is bounded by that number, so entries appended while a
// client pages are not mixed in and no entry is seen twice or skipped.
type pullWindow struct {
	Gte, Lte time.Time
	Kind     audit.Kind // 0: all
	MaxSeq   int64
}

// pullCursor is a position in a window: page[after] reads entries with a
// greater sequence number, page[before] entries with a smaller one.
type pullCursor struct {
	pullWindow
	Seq int64
}

const pullCursorVersion = 1

// pullMaxTime is the latest time a window may reach, the last millisecond
// RFC 3339 can write in UTC. A later lte (9999-12-31T23:59:59-23:00 is
// in the year 10000) is taken as this, so its cursors stay readable.
var pullMaxTime = time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC)

// encode makes the cursor opaque and URL-safe: version, seq, max seq, gte
// and lte in milliseconds, kind.
func (p pullCursor) encode() string {
	b := make([]byte, 0, 40)
	b = append(b, pullCursorVersion)
	b = binary.AppendUvarint(b, uint64(p.Seq))
	b = binary.AppendUvarint(b, uint64(p.MaxSeq))
	b = binary.AppendVarint(b, p.Gte.UnixMilli())
	b = binary.AppendVarint(b, p.Lte.UnixMilli())
	b = append(b, byte(p.Kind))
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodePullCursor reads a cursor this API made; anything else is refused.
func decodePullCursor(s string) (pullCursor, bool) {
	var p pullCursor
	if len(s) > 64 {
		return p, false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2 || b[0] != pullCursorVersion {
		return p, false
	}
	b = b[1:]
	uv := func() (int64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 || v > 1<<62 {
			return 0, false
		}
		b = b[n:]
		return int64(v), true
	}
	sv := func() (int64, bool) {
		v, n := binary.Varint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	seq, ok1 := uv()
	maxSeq, ok2 := uv()
	gte, ok3 := sv()
	lte, ok4 := sv()
	if !ok1 || !ok2 || !ok3 || !ok4 || len(b) != 1 {
		return p, false
	}
	kind := audit.Kind(b[0])
	if kind != 0 && kind.String() == "unknown" {
		return p, false
	}
	if gte < 0 || lte < gte || lte > pullMaxTime.UnixMilli() {
		return p, false
	}
	p.Seq, p.MaxSeq, p.Kind = seq, maxSeq, kind
	p.Gte, p.Lte = time.UnixMilli(gte).UTC(), time.UnixMilli(lte).UTC()
	return p, true
}

// listAuditLogs answers one page of the org's log, oldest first, each
// entry in the v3 AuditLog shape and signed as that shape (signAuditLog).
func (s *server) listAuditLogs(c *call) error { return s.pullLog(c, c.orgStream()) }

// pullLog answers one page of a stream of the caller's org (the org's
// log, or a portal's: portalAuditLogs).
func (s *server) pullLog(c *call, stream store.StreamID) error {
	if s.signer == nil {
		return apperr.Wrap(nil, "pull API has no signer")
	}
	q := c.r.URL.Query()
	size, err := pullPageSize(q)
	if err != nil {
		return err
	}
	after, before := q.Get("page[after]"), q.Get("page[before]")
	if after != "" && before != "" {
		return apperr.InvalidField("query", "page[before]", "invalid", "cannot be combined with page[after]")
	}
	now := c.now()
	var w pullWindow
	var cur *pullCursor
	backward := before != ""
	if raw := after + before; raw != "" {
		name := "page[after]"
		if backward {
			name = "page[before]"
		}
		p, ok := decodePullCursor(raw)
		if !ok {
			return apperr.InvalidField("query", name, "invalid", "is not a cursor this API returned")
		}
		if err := sameFilters(q, p.pullWindow); err != nil {
			return err
		}
		cur, w = &p, p.pullWindow
	} else {
		if w, err = s.pullFilters(q, now); err != nil {
			return err
		}
		if w.MaxSeq, err = s.st.LastSeq(c.ctx(), stream); err != nil {
			return err
		}
	}

	base := store.EntryQuery{Stream: stream, From: w.Gte, To: w.Lte, BeforeSeq: w.MaxSeq + 1}
	if w.Kind != 0 {
		base.Kinds = []audit.Kind{w.Kind}
	}
	page := base
	page.Limit = size + 1
	switch {
	case backward:
		page.BeforeSeq, page.Desc = min(cur.Seq, w.MaxSeq+1), true
	case cur != nil:
		page.AfterSeq = cur.Seq
	}
	rows, err := s.st.Query(c.ctx(), page)
	if err != nil {
		return err
	}
	more := len(rows) > size
	if more {
		rows = rows[:size]
	}
	if backward {
		slices.Reverse(rows)
	}

	// exists says whether any entry of the window lies beyond seq in one
	// direction, so links never lead to an empty page.
	exists := func(seq int64, forward bool) (bool, error) {
		probe := base
		probe.Limit = 1
		if forward {
			probe.AfterSeq = seq
		} else {
			probe.BeforeSeq, probe.Desc = seq, true
		}
		r, err := s.st.Query(c.ctx(), probe)
		return len(r) > 0, err
	}
	link := func(key string, seq int64) *string {
		v := url.Values{}
		v.Set(key, pullCursor{pullWindow: w, Seq: seq}.encode())
		v.Set("page[size]", strconv.Itoa(size))
		l := c.r.URL.Path + "?" + v.Encode()
		return &l
	}
	var meta cursorMeta
	meta.Size = size
	switch {
	case len(rows) == 0 && cur != nil:
		// Past either end (or everything there expired): offer the way back.
		var ok bool
		if backward {
			if ok, err = exists(cur.Seq-1, true); ok {
				meta.Next = link("page[after]", cur.Seq-1)
			}
		} else {
			if ok, err = exists(cur.Seq+1, false); ok {
				meta.Previous = link("page[before]", cur.Seq+1)
			}
		}
		if err != nil {
			return err
		}
	case len(rows) > 0:
		first, last := rows[0].Seq, rows[len(rows)-1].Seq
		// The direction read knows from the extra row whether more lie
		// beyond; the other direction needs a probe (a first page has
		// nothing before it).
		next, prev := more && !backward, more && backward
		if backward {
			if next, err = exists(last, true); err != nil {
				return err
			}
		} else if cur != nil {
			if prev, err = exists(first, false); err != nil {
				return err
			}
		}
		if next {
			meta.Next = link("page[after]", last)
		}
		if prev {
			meta.Previous = link("page[before]", first)
		}
	}

	data := make([]any, 0, len(rows))
	for i := range rows {
		l, err := signAuditLog(s.signer, toAuditLogJSON(&rows[i].Entry))
		if err != nil {
			return err
		}
		data = append(data, l)
	}
	return c.json(http.StatusOK, struct {
		Data []any `json:"data"`
		Meta struct {
			Page cursorMeta `json:"page"`
		} `json:"meta"`
	}{Data: data, Meta: struct {
		Page cursorMeta `json:"page"`
	}{Page: meta}})
}

// pullPageSize reads page[size]: default 20, at most 1000.
func pullPageSize(q url.Values) (int, error) {
	v := q.Get("page[size]")
	if v == "" {
		return pullDefaultPageSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, apperr.InvalidField("query", "page[size]", "is_integer", "must be an integer")
	}
	if n < 1 || n > pullMaxPageSize {
		return 0, apperr.InvalidField("query", "page[size]", "invalid", "must be between 1 and "+strconv.Itoa(pullMaxPageSize))
	}
	return n, nil
}

// pullFilters reads filter[ts][gte], filter[ts][lte] and filter[type].
// lte defaults to now and gte to seven days before lte (but no earlier than
// the retention window); a bound given outside the retention window is a
// 400, as is any other filter.
func (s *server) pullFilters(q url.Values, now time.Time) (pullWindow, error) {
	var w pullWindow
	var params []apperr.InvalidParam
	bad := func(field, rule, reason string) {
		params = append(params, apperr.InvalidParam{Field: field, Rule: rule, Reason: reason, Source: "query"})
	}
	for k := range q {
		if strings.HasPrefix(k, "filter") && k != "filter[ts][gte]" && k != "filter[ts][lte]" && k != "filter[type]" {
			bad(k, "invalid", "is not a supported filter; use filter[ts][gte], filter[ts][lte], filter[type]")
		}
	}
	oldest := now.Add(-s.cfg.Retention)
	within := "must be within the retention period (the last " + humanDuration(s.cfg.Retention) + ")"
	ts := func(field string) (time.Time, bool) {
		v := q.Get(field)
		if v == "" {
			return time.Time{}, false
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			reason := "must be an RFC 3339 date-time, for example 2026-07-21T00:00:00Z"
			if strings.Contains(v, " ") {
				// An offset's "+" written as is arrives as a space.
				reason += " (a + in a query string must be sent as %2B)"
			}
			bad(field, "is_date_time", reason)
			return time.Time{}, false
		}
		return t.UTC(), true
	}
	lte, lteSet := ts("filter[ts][lte]")
	gte, gteSet := ts("filter[ts][gte]")
	if lte.After(pullMaxTime) {
		lte = pullMaxTime
	}
	if !lteSet {
		lte = now
	} else if lte.Before(oldest) {
		bad("filter[ts][lte]", "invalid", within)
	}
	if !gteSet {
		gte = lte.Add(-7 * 24 * time.Hour)
		if gte.Before(oldest) {
			gte = oldest
		}
	} else if gte.Before(oldest.Add(-windowGrace)) {
		bad("filter[ts][gte]", "invalid", within)
	}
	if gte.After(lte) && len(params) == 0 {
		bad("filter[ts][gte]", "invalid", "must not be after filter[ts][lte]")
	}
	if v := q.Get("filter[type]"); v != "" {
		k, ok := audit.ParseKind(v)
		if !ok {
			bad("filter[type]", "invalid", "must be one of authentication, authorization, gateway_access")
		}
		w.Kind = k
	}
	if len(params) > 0 {
		return w, &apperr.Error{Code: apperr.Invalid, Message: "Invalid audit log filter", Params: params}
	}
	// Whole milliseconds, as entries are stored and cursors carry them.
	w.Gte, w.Lte = ceilMilli(gte), floorMilli(lte)
	return w, nil
}

// sameFilters refuses filters that contradict a cursor: the window of a
// walk is fixed by its first page.
func sameFilters(q url.Values, w pullWindow) error {
	same := map[string]func(string) bool{
		"filter[ts][gte]": func(v string) bool {
			t, err := time.Parse(time.RFC3339, v)
			return err == nil && ceilMilli(t).Equal(w.Gte)
		},
		"filter[ts][lte]": func(v string) bool {
			t, err := time.Parse(time.RFC3339, v)
			return err == nil && floorMilli(t).Equal(w.Lte)
		},
		"filter[type]": func(v string) bool {
			k, ok := audit.ParseKind(v)
			return ok && k == w.Kind
		},
	}
	for _, key := range []string{"filter[ts][gte]", "filter[ts][lte]", "filter[type]"} {
		if v := q.Get(key); v != "" && !same[key](v) {
			return apperr.InvalidField("query", key, "invalid",
				"differs from the cursor's; the first page fixes the filters, so drop them or start again without a cursor")
		}
	}
	return nil
}

// ceilMilli and floorMilli round to the millisecond precision of entries.
func ceilMilli(t time.Time) time.Time {
	f := floorMilli(t)
	if f.Before(t) {
		f = f.Add(time.Millisecond)
	}
	return f
}

func floorMilli(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// The v3 AuditLog shapes, one per kind; field order follows the spec.
type authenticationLogJSON struct {
	Type               string `json:"type"`
	Successful         bool   `json:"successful"`
	PrincipalID        string `json:"principal_id,omitempty"`
	Signature          string `json:"signature"`
	OrgID              string `json:"org_id,omitempty"`
	Outcome            string `json:"outcome"`
	AuthenticationType string `json:"authentication_type"`
	TS                 string `json:"ts"`
	ClientIP           string `json:"client_ip"`
	URI                string `json:"uri"`
	UserAgent          string `json:"user_agent"`
	TraceID            string `json:"trace_id"`
	PortalID           string `json:"portal_id,omitempty"`
	TokenID            string `json:"token_id,omitempty"` // ingested entries: the token that wrote it
}

type authorizationLogJSON struct {
	Type        string `json:"type"`
	Signature   string `json:"signature"`
	Service     string `json:"service"`
	Resource    string `json:"resource"`
	Action      string `json:"action"`
	Granted     bool   `json:"granted"`
	OrgID       string `json:"org_id"`
	TS          string `json:"ts"`
	PrincipalID string `json:"principal_id"`
	ActorID     string `json:"actor_id"`
	ClientIP    string `json:"client_ip"`
	UserAgent   string `json:"user_agent"`
	TraceID     string `json:"trace_id"`
	TokenID     string `json:"token_id,omitempty"`
}

type gatewayAccessLogJSON struct {
	Type        string `json:"type"`
	TS          string `json:"ts"`
	OrgID       string `json:"org_id"`
	PrincipalID string `json:"principal_id"`
	ActorID     string `json:"actor_id"`
	ClientIP    string `json:"client_ip"`
	TraceID     string `json:"trace_id"`
	UserAgent   string `json:"user_agent"`
	Method      string `json:"method"`
	URI         string `json:"uri"`
	Query       string `json:"query"`
	StatusCode  int    `json:"status_code"`
	Signature   string `json:"signature"`
	TokenID     string `json:"token_id,omitempty"`
}

// auditLogJSON is one of the three shapes above.
type auditLogJSON interface{ setSignature(sig string) }

func (l *authenticationLogJSON) setSignature(sig string) { l.Signature = sig }
func (l *authorizationLogJSON) setSignature(sig string)  { l.Signature = sig }
func (l *gatewayAccessLogJSON) setSignature(sig string)  { l.Signature = sig }

// authTypes are the authentication_type values of the v3 enum.
var authTypes = map[string]bool{"invalid": true, "basic": true, "sso": true, "pat": true, "spat": true,
	"google": true, "github": true, "windowslive": true, "federated": true}

// toAuditLogJSON maps an entry to its v3 shape, not yet signed.
func toAuditLogJSON(e *audit.Entry) auditLogJSON {
	ts := e.Time.UTC().Format(time.RFC3339Nano)
	switch e.Kind {
	case audit.KindAuthentication:
		typ := strings.ToLower(strings.TrimPrefix(e.ClassID, "AUTHENTICATION_TYPE_"))
		if !authTypes[typ] {
			typ = "invalid"
		}
		return &authenticationLogJSON{Type: audit.KindAuthentication.String(), Successful: e.Success(),
			PrincipalID: e.PrincipalID, OrgID: e.OrgID,
			Outcome:            strings.ToLower(strings.TrimPrefix(e.Name, "AUTHENTICATION_OUTCOME_")),
			AuthenticationType: typ, TS: ts, ClientIP: e.Src, URI: e.Request, UserAgent: e.UserAgent,
			TraceID: e.TraceID, PortalID: e.PortalID, TokenID: e.TokenID}
	case audit.KindAuthorization:
		return &authorizationLogJSON{Type: audit.KindAuthorization.String(), Service: e.ClassID,
			Resource: strings.TrimPrefix(e.Name, audit.AuthzNamePrefix), Action: e.Action, Granted: e.Granted,
			OrgID: e.OrgID, TS: ts, PrincipalID: e.PrincipalID, ActorID: e.ActorID, ClientIP: e.Src,
			UserAgent: e.UserAgent, TraceID: e.TraceID, TokenID: e.TokenID}
	default:
		return &gatewayAccessLogJSON{Type: audit.KindAccess.String(), TS: ts, OrgID: e.OrgID,
			PrincipalID: e.PrincipalID, ActorID: e.ActorID, ClientIP: e.Src, TraceID: e.TraceID,
			UserAgent: e.UserAgent, Method: e.Act, URI: e.Request, Query: e.Query, StatusCode: e.Status,
			TokenID: e.TokenID}
	}
}

// signAuditLog signs an item over exactly what the client receives, so a
// client can check it from the item alone: signature is the Ed25519
// signature (base64url, no padding) of auditLogSignedBytes, the item
// without its signature member in RFC 8785 (JCS) canonical form. For these
// flat objects that is compact JSON, keys sorted, strings escaping only the
// quote, the backslash and control characters: byte for byte Python's
// json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False).
// (The webhook's JSON line cannot serve: it holds fields the v3 shape lacks,
// such as severity and vendor, so a client could not rebuild it.)
func signAuditLog(s audit.Signer, l auditLogJSON) (auditLogJSON, error) {
	msg, err := auditLogSignedBytes(l)
	if err != nil {
		return nil, err
	}
	l.setSignature(base64.RawURLEncoding.EncodeToString(s.Sign(msg)))
	return l, nil
}

// auditLogSignedBytes is the canonical form of a v3 item without its
// signature. It starts from the item's JSON, as a client does, so what is
// signed is what is sent (invalid UTF-8 already replaced, say); sigtrail
// verify --pull checks with the same audit.CanonicalItem.
func auditLogSignedBytes(item any) ([]byte, error) {
	raw, err := json.Marshal(item)
	if err != nil {
		return nil, apperr.Wrap(err, "encode audit log")
	}
	b, err := audit.CanonicalItem(raw)
	if err != nil {
		return nil, apperr.Wrap(err, "canonical audit log")
	}
	return b, nil
}
