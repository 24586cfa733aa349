package httpx

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/sigtrail/sigtrail/internal/apperr"
)

// Problem is an RFC 9457 problem document in Konnect's shape.
type Problem struct {
	Status            int                   `json:"status"`
	Title             string                `json:"title"`
	Type              string                `json:"type"`
	Instance          string                `json:"instance"`
	Detail            string                `json:"detail"`
	InvalidParameters []apperr.InvalidParam `json:"invalid_parameters,omitempty"`
}

// ProblemFor turns err into the problem shown to the caller. Internal
// errors become a generic 500 and are logged with the trace id; their text
// is never shown.
func ProblemFor(err error, traceID string, log *slog.Logger) Problem {
	code := apperr.CodeOf(err)
	status := apperr.HTTPStatus(code)
	p := Problem{
		Status:   status,
		Title:    http.StatusText(status),
		Type:     "https://httpstatuses.com/" + itoa(status),
		Instance: "kong:trace:" + traceID,
	}
	// errors.As, like apperr.CodeOf, looks inside errors.Join and
	// multi-%w wraps too, so both name the same coded error.
	var ae *apperr.Error
	if code == apperr.Internal || !errors.As(err, &ae) {
		if log != nil {
			log.Error("internal error", "trace_id", traceID, "err", err)
		}
		p.Detail = "An internal error occurred; quote the trace id when reporting it"
		return p
	}
	p.Detail = ae.Message
	if p.Detail == "" {
		p.Detail = p.Title
	}
	if code == apperr.Invalid {
		p.InvalidParameters = ae.Params
		if len(p.InvalidParameters) == 0 {
			// Konnect's schema wants at least one entry: the message is
			// about the request as a whole, so it names the body.
			p.InvalidParameters = []apperr.InvalidParam{{Field: "body", Reason: p.Detail}}
		}
		// Konnect's specs name the parameter list's reasons; keep each rule set.
		for i := range p.InvalidParameters {
			if p.InvalidParameters[i].Rule == "" {
				p.InvalidParameters[i].Rule = "invalid"
			}
			if p.InvalidParameters[i].Source == "" {
				p.InvalidParameters[i].Source = "body"
			}
		}
	}
	return p
}

// RetryAfterUnavailable is the Retry-After of a 503, in seconds: about
// how long a PostgreSQL failover or a restart takes.
const RetryAfterUnavailable = "5"

// WriteError answers with err as application/problem+json.
func WriteError(w http.ResponseWriter, r *http.Request, err error, traceID string, log *slog.Logger) {
	p := ProblemFor(err, traceID, log)
	switch p.Status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="sigtrail"`)
	case http.StatusServiceUnavailable:
		// A 503 is a passing state (the database failing over, a commit
		// that timed out): tell clients when to come back unless the
		// handler already did.
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", RetryAfterUnavailable)
		}
	}
	WriteJSONType(w, p.Status, "application/problem+json", p)
}

// WriteJSON answers with v as application/json.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	WriteJSONType(w, status, "application/json", v)
}

// WriteJSONType answers with v encoded as JSON under the given media type.
func WriteJSONType(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"status":500,"title":"Internal Server Error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func itoa(n int) string {
	var b [8]byte
	i := len(b)
	for n > 0 || i == len(b) {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return strings.Clone(string(b[i:]))
}
