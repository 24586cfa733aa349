package apperr

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestHTTPStatus(t *testing.T) {
	t.Parallel()
	cases := map[Code]int{
		Invalid: 400, Unauthorized: 401, Forbidden: 403, NotFound: 404, MethodNotAllowed: 405,
		Timeout: 408, Conflict: 409, TooLarge: 413, Unsupported: 415, RateLimited: 429, Unavailable: 503,
		Internal: 500, Code("made-up"): 500,
	}
	for c, want := range cases {
		if got := HTTPStatus(c); got != want {
			t.Errorf("HTTPStatus(%q) = %d, want %d", c, got, want)
		}
	}
}

func TestCodeSurvivesWrapping(t *testing.T) {
	t.Parallel()
	base := New(Conflict, "in use by %d webhooks", 2)
	wrapped := fmt.Errorf("deleting: %w", base)
	if CodeOf(wrapped) != Conflict || !Is(wrapped, Conflict) || Is(nil, Conflict) {
		t.Fatal("the code must be found through wrapping")
	}
	if CodeOf(errors.New("disk on fire")) != Internal {
		t.Fatal("an error without a code is internal")
	}
	cause := errors.New("sql: database is locked")
	w := Wrap(cause, "saving")
	if w.Code != Internal || !errors.Is(w, cause) || HTTPStatus(w.Code) != http.StatusInternalServerError {
		t.Fatal("Wrap keeps the cause for logs and is internal")
	}
	p := InvalidField("query", "page[size]", "max", "must be at most 1000")
	if p.Code != Invalid || len(p.Params) != 1 || p.Params[0].Source != "query" {
		t.Fatalf("InvalidField = %+v", p)
	}
}

func TestCodeOfSeesIntoJoins(t *testing.T) {
	t.Parallel()
	joined := errors.Join(errors.New("rollback: conn closed"), fmt.Errorf("saving: %w", New(Conflict, "name taken")))
	if CodeOf(joined) != Conflict || !Is(joined, Conflict) {
		t.Fatalf("CodeOf(%v) = %v, want Conflict", joined, CodeOf(joined))
	}
}
