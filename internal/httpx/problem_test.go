package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sigtrail/sigtrail/internal/apperr"
)

func TestProblemFor(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	p := ProblemFor(errors.New("db password=hunter2 refused"), "42", log)
	if p.Status != 500 || strings.Contains(p.Detail, "hunter2") || p.Instance != "kong:trace:42" {
		t.Errorf("internal error shown: %+v", p)
	}
	if !strings.Contains(logs.String(), "trace_id=42") {
		t.Errorf("internal error not logged with its trace id: %s", logs.String())
	}
	p = ProblemFor(apperr.InvalidField("", "name", "", "is required"), "1", nil)
	if p.Status != 400 || len(p.InvalidParameters) != 1 || p.InvalidParameters[0].Rule != "invalid" || p.InvalidParameters[0].Source != "body" {
		t.Errorf("invalid: %+v", p)
	}
	p = ProblemFor(apperr.New(apperr.Invalid, "bad"), "1", nil)
	if len(p.InvalidParameters) != 1 || p.InvalidParameters[0].Field != "body" || p.InvalidParameters[0].Reason != "bad" || p.InvalidParameters[0].Rule == "" {
		t.Errorf("a 400 must carry at least one invalid parameter (Konnect's minItems: 1): %+v", p.InvalidParameters)
	}
	p = ProblemFor(apperr.New(apperr.NotFound, "Portal x not found"), "1", nil)
	if p.Status != 404 || p.Detail != "Portal x not found" || p.Type != "https://httpstatuses.com/404" || p.Title != "Not Found" {
		t.Errorf("not found: %+v", p)
	}
}

func TestWriteError(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	WriteError(w, httptest.NewRequest(http.MethodGet, "/", nil), apperr.New(apperr.Unauthorized, "Invalid credentials"), "7", nil)
	if w.Code != 401 || w.Header().Get("Content-Type") != "application/problem+json" || w.Header().Get("WWW-Authenticate") == "" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != 401 || p.Detail != "Invalid credentials" {
		t.Fatalf("%s %v", w.Body.String(), err)
	}
}

func TestWriteErrorUnavailableSaysWhenToRetry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, preset, want string
	}{
		{"default", "", RetryAfterUnavailable},
		{"handler's own value kept", "30", "30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			if tt.preset != "" {
				w.Header().Set("Retry-After", tt.preset)
			}
			WriteError(w, httptest.NewRequest(http.MethodGet, "/", nil), apperr.New(apperr.Unavailable, "database unavailable"), "7", nil)
			if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != tt.want {
				t.Fatalf("status %d, Retry-After %q; want 503 and %q", w.Code, w.Header().Get("Retry-After"), tt.want)
			}
		})
	}
}

// TestProblemForSeesIntoJoins: a handler that joins a coded error with
// another (a failed close, a second cause) still answers with the code and
// its message, not a 500 or a coded status with an internal detail.
func TestProblemForSeesIntoJoins(t *testing.T) {
	t.Parallel()
	nf := apperr.New(apperr.NotFound, "Portal x not found")
	for _, err := range []error{
		errors.Join(errors.New("closing rows: done"), nf),
		fmt.Errorf("two causes: %w, %w", errors.New("x"), nf),
		fmt.Errorf("outer: %w", errors.Join(nil, fmt.Errorf("inner: %w", nf))),
	} {
		if apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("CodeOf(%v) = %v", err, apperr.CodeOf(err))
		}
		p := ProblemFor(err, "1", nil)
		if p.Status != 404 || p.Detail != "Portal x not found" {
			t.Errorf("ProblemFor(%v) = %+v", err, p)
		}
	}
}
