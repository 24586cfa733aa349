package console

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/signing"
	"github.com/sigtrail/sigtrail/internal/store"
)

// logPageSize is how many entries a log page reads; with the console's own
// filters it reads up to logMaxScan such pages to fill one.
const (
	logPageSize = 100
	logMaxScan  = 10
)

// logFilter is the log page's query: the API's window and type filters,
// and the outcome, principal and text filters the console applies to the
// entries the API answers.
type logFilter struct {
	From, To, Type, Outcome, Principal, Q string
	Portal                                string // a portal's log instead of the org's
}

// apiPath is the pull API of the log the filter reads.
func (f logFilter) apiPath() string {
	if f.Portal != "" {
		return "/v3/portals/" + url.PathEscape(f.Portal) + "/audit-logs"
	}
	return "/v3/audit-logs"
}

func readLogFilter(q url.Values) logFilter {
	return logFilter{From: q.Get("from"), To: q.Get("to"), Type: q.Get("type"), Outcome: q.Get("outcome"),
		Principal: strings.TrimSpace(q.Get("principal")), Q: strings.TrimSpace(q.Get("q")), Portal: q.Get("portal")}
}

// values is the filter as the console's own query.
func (f logFilter) values() url.Values {
	v := url.Values{}
	for k, x := range map[string]string{"from": f.From, "to": f.To, "type": f.Type, "outcome": f.Outcome, "principal": f.Principal, "q": f.Q, "portal": f.Portal} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v
}

// apiQuery is the filter as the pull API's query; a bad time is a field
// error.
func (f logFilter) apiQuery(size int) (url.Values, error) {
	v := url.Values{}
	v.Set("page[size]", strconv.Itoa(size))
	var params []apperr.InvalidParam
	for _, x := range []struct{ field, value, key string }{{"from", f.From, "filter[ts][gte]"}, {"to", f.To, "filter[ts][lte]"}} {
		if x.value == "" {
			continue
		}
		t, err := parseLocal(x.value)
		if err != nil {
			params = append(params, apperr.InvalidParam{Field: x.field, Reason: "must be a date and time such as 2026-07-21T09:30"})
			continue
		}
		v.Set(x.key, t.Format(time.RFC3339))
	}
	if f.Type != "" {
		v.Set("filter[type]", f.Type)
	}
	if len(params) > 0 {
		return nil, &apperr.Error{Code: apperr.Invalid, Message: "Invalid filter", Params: params}
	}
	return v, nil
}

// parseLocal reads a datetime-local value (taken as UTC) or RFC 3339.
func parseLocal(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not a time: %q", s)
}

// logItem is one pulled entry, in any of the three shapes.
type logItem struct {
	Type        string `json:"type"`
	TS          string `json:"ts"`
	PrincipalID string `json:"principal_id"`
	ClientIP    string `json:"client_ip"`
	Outcome     string `json:"outcome"`
	Resource    string `json:"resource"`
	Action      string `json:"action"`
	Granted     *bool  `json:"granted"`
	Method      string `json:"method"`
	URI         string `json:"uri"`
	StatusCode  int    `json:"status_code"`
	PortalID    string `json:"portal_id"`
	TraceID     string `json:"trace_id"`
}

type logRow struct {
	TS, Type, What, Outcome, Principal, Client, TraceID, PortalID string
	Verified                                                      bool
	raw                                                           json.RawMessage
}

func toLogRow(raw json.RawMessage, v signing.Verifier) (logRow, error) {
	var it logItem
	if err := json.Unmarshal(raw, &it); err != nil {
		return logRow{}, apperr.Wrap(err, "decode pulled entry")
	}
	row := logRow{TS: it.TS, Type: it.Type, Principal: it.PrincipalID, Client: it.ClientIP, TraceID: it.TraceID,
		PortalID: it.PortalID, Verified: v.VerifyPulledItem(raw) == nil, raw: raw}
	switch it.Type {
	case "authentication":
		row.Outcome, row.What = it.Outcome, it.URI
	case "authorization":
		row.What = it.Resource + " " + it.Action
		row.Outcome = "denied"
		if it.Granted != nil && *it.Granted {
			row.Outcome = "granted"
		}
	default:
		row.What = it.Method + " " + it.URI
		row.Outcome = strconv.Itoa(it.StatusCode)
	}
	return row, nil
}

// narrows reports whether the filters the pull API lacks are set.
func (f logFilter) narrows() bool { return f.Outcome != "" || f.Principal != "" || f.Q != "" }

// matches applies the filters the pull API does not have.
func (f logFilter) matches(r logRow) bool {
	if f.Outcome != "" && r.Outcome != f.Outcome {
		return false
	}
	if f.Principal != "" && r.Principal != f.Principal {
		return false
	}
	if f.Q != "" && !strings.Contains(strings.ToLower(string(r.raw)), strings.ToLower(f.Q)) {
		return false
	}
	return true
}

// verifier reads the published keys (the JWKS the API serves).
func (h *Handler) verifier(r *http.Request) (signing.Verifier, error) {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, "/v2/audit-log-webhook/jwks.json", nil)
	if err != nil {
		return signing.Verifier{}, apperr.Wrap(err, "jwks request")
	}
	res := &answer{header: http.Header{}, status: http.StatusOK}
	h.api.ServeHTTP(res, req)
	if res.status != http.StatusOK {
		return signing.Verifier{}, apperr.Wrap(fmt.Errorf("status %d", res.status), "jwks")
	}
	v, err := signing.ParseJWKS(res.body.Bytes())
	if err != nil {
		return v, apperr.Wrap(err, "parse jwks")
	}
	return v, nil
}

type pulledPage struct {
	Data []json.RawMessage `json:"data"`
	Meta struct {
		Page struct {
			Next     *string `json:"next"`
			Previous *string `json:"previous"`
		} `json:"page"`
	} `json:"meta"`
}

// cursorOf takes the cursor out of a pull API link.
func cursorOf(link *string) (key, cursor string) {
	if link == nil || *link == "" {
		return "", ""
	}
	u, err := url.Parse(*link)
	if err != nil {
		return "", ""
	}
	if c := u.Query().Get("page[after]"); c != "" {
		return "after", c
	}
	return "before", u.Query().Get("page[before]")
}

type logData struct {
	logFilter
	Portals           []portalJSON
	Rows              []logRow
	Query, Next, Prev string
	Size, Scan        int
}

func (h *Handler) pageLog(w http.ResponseWriter, r *http.Request, u store.User) {
	d := h.newPage(w, r, u, "Audit log")
	q := r.URL.Query()
	f := readLogFilter(q)
	ld := logData{logFilter: f, Query: f.values().Encode(), Size: logPageSize, Scan: logMaxScan}
	d.Data = &ld
	status, err := func() (int, error) {
		portals, err := h.listPortals(r, u)
		if err != nil && !apperr.Is(err, apperr.Forbidden) {
			return 0, err
		}
		ld.Portals = portals
		aq, err := f.apiQuery(logPageSize)
		if err != nil {
			return 0, err
		}
		if c := q.Get("after"); c != "" {
			aq.Set("page[after]", c)
		} else if c := q.Get("before"); c != "" {
			aq.Set("page[before]", c)
		}
		v, err := h.verifier(r)
		if err != nil {
			return 0, err
		}
		// With filters the API lacks, read on (forward, up to
		// logMaxScan pages) until a page's worth of entries match.
		var first, last pulledPage
		for scanned := 0; ; scanned++ {
			var page pulledPage
			if err := h.call(r, u, http.MethodGet, f.apiPath()+"?"+aq.Encode(), nil, &page); err != nil {
				return 0, err
			}
			if scanned == 0 {
				first = page
			}
			last = page
			for _, raw := range page.Data {
				row, err := toLogRow(raw, v)
				if err != nil {
					return 0, err
				}
				if f.matches(row) {
					ld.Rows = append(ld.Rows, row)
				}
			}
			key, c := cursorOf(page.Meta.Page.Next)
			if aq.Get("page[before]") != "" || !f.narrows() || len(ld.Rows) >= logPageSize || scanned+1 >= logMaxScan || key != "after" || c == "" {
				break
			}
			aq.Set("page[after]", c)
		}
		link := func(l *string) string {
			key, c := cursorOf(l)
			if c == "" {
				return ""
			}
			v := f.values()
			v.Set(key, c)
			return v.Encode()
		}
		ld.Next, ld.Prev = link(last.Meta.Page.Next), link(first.Meta.Page.Previous)
		return http.StatusOK, nil
	}()
	if err != nil {
		status = h.showError(r, &d, err)
		for k, v := range d.FieldErrors {
			if strings.HasPrefix(k, "filter[ts][gte]") {
				d.FieldErrors["from"] = v
			} else if strings.HasPrefix(k, "filter[ts][lte]") {
				d.FieldErrors["to"] = v
			}
		}
	}
	h.render(w, r, status, "log", d)
}

// pageLogExport answers every entry the filters select, as NDJSON (the
// pulled items, signatures included, one a line) or CSV, reading the log
// page by page through the API.
func (h *Handler) pageLogExport(w http.ResponseWriter, r *http.Request, u store.User) {
	q := r.URL.Query()
	f := readLogFilter(q)
	format := q.Get("format")
	if format != "ndjson" && format != "csv" {
		h.message(w, r, u, http.StatusBadRequest, "Export", "Choose NDJSON or CSV.")
		return
	}
	aq, err := f.apiQuery(1000)
	if err == nil {
		var v signing.Verifier
		v, err = h.verifier(r)
		if err == nil {
			err = h.export(r.Context(), w, r, u, f, aq, v, format)
		}
	}
	if err != nil {
		d := h.newPage(w, r, u, "Export")
		h.render(w, r, h.showError(r, &d, err), "message", d)
	}
}

func (h *Handler) export(_ context.Context, w http.ResponseWriter, r *http.Request, u store.User, f logFilter, aq url.Values, v signing.Verifier, format string) error {
	var cw *csv.Writer
	started := false
	start := func() {
		if started {
			return
		}
		started = true
		name := "sigtrail-audit-log." + format
		if format == "csv" {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			cw = csv.NewWriter(w)
			_ = cw.Write([]string{"ts", "type", "what", "outcome", "principal_id", "client_ip", "portal_id", "trace_id", "signature_verified"})
		} else {
			w.Header().Set("Content-Type", "application/x-ndjson")
		}
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	}
	for {
		var page pulledPage
		if err := h.call(r, u, http.MethodGet, f.apiPath()+"?"+aq.Encode(), nil, &page); err != nil {
			if started {
				// The answer has begun: end it short rather than
				// mixing an error page into the file.
				h.log.Error("console: export cut short", "trace_id", info(r).trace, "err", err)
				return nil
			}
			return err
		}
		start()
		for _, raw := range page.Data {
			row, err := toLogRow(raw, v)
			if err != nil {
				return err
			}
			if !f.matches(row) {
				continue
			}
			if cw != nil {
				_ = cw.Write([]string{csvText(row.TS), csvText(row.Type), csvText(row.What), csvText(row.Outcome), csvText(row.Principal),
					csvText(row.Client), csvText(row.PortalID), csvText(row.TraceID), strconv.FormatBool(row.Verified)})
			} else {
				_, _ = w.Write(append(append([]byte(nil), raw...), '\n'))
			}
		}
		key, c := cursorOf(page.Meta.Page.Next)
		if key != "after" || c == "" || len(page.Data) == 0 {
			break
		}
		aq.Set("page[after]", c)
	}
	if cw != nil {
		cw.Flush()
	}
	return nil
}

// csvText keeps a value a spreadsheet would take for a formula (one that
// starts with = + - @, a tab or a carriage return) as text, with the
// leading apostrophe spreadsheets read as "text follows": producers write
// what their own users typed (a user name as the principal, a requested
// path) into entries, and an export opened in a spreadsheet must not run
// it. The NDJSON export keeps the signed items exactly.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
