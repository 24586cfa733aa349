// Package apperr is sigtrail's one application error type. Every error that
// reaches a user carries a Code; HTTPStatus maps codes to HTTP statuses in
// this one place. Errors without a code are internal: logged, never shown.
package apperr

import (
	"errors"
	"fmt"
	"net/http"
)

// Code classifies an error for the caller.
type Code string

// The codes. Add one only with its HTTP status in HTTPStatus.
const (
	Invalid          Code = "invalid"            // 400: the request is wrong; InvalidParams say where
	Unauthorized     Code = "unauthorized"       // 401: no or bad credentials
	Forbidden        Code = "forbidden"          // 403: credentials lack the permission
	NotFound         Code = "not_found"          // 404
	Conflict         Code = "conflict"           // 409: the state forbids it now
	TooLarge         Code = "too_large"          // 413
	Unsupported      Code = "unsupported"        // 415: wrong content type
	RateLimited      Code = "rate_limited"       // 429
	Unavailable      Code = "unavailable"        // 503: try again later
	Internal         Code = "internal"           // 500: a bug or a broken dependency; detail is never shown
	MethodNotAllowed Code = "method_not_allowed" // 405
	Timeout          Code = "timeout"            // 408: the request did not arrive in time
)

// HTTPStatus is the one mapping from codes to HTTP statuses.
func HTTPStatus(c Code) int {
	switch c {
	case Invalid:
		return http.StatusBadRequest
	case Unauthorized:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case NotFound:
		return http.StatusNotFound
	case MethodNotAllowed:
		return http.StatusMethodNotAllowed
	case Timeout:
		return http.StatusRequestTimeout
	case Conflict:
		return http.StatusConflict
	case TooLarge:
		return http.StatusRequestEntityTooLarge
	case Unsupported:
		return http.StatusUnsupportedMediaType
	case RateLimited:
		return http.StatusTooManyRequests
	case Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// InvalidParam names one wrong input, in Konnect's problem+json shape.
type InvalidParam struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
	Rule   string `json:"rule,omitempty"`
	Source string `json:"source,omitempty"` // body, query, path, header
}

// Error is the application error.
type Error struct {
	Code    Code
	Message string // safe to show; becomes the problem detail
	Params  []InvalidParam
	Err     error // the cause, for logs only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with a code and a message safe to show.
func New(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an internal error around cause; the message is for logs.
func Wrap(cause error, format string, args ...any) *Error {
	return &Error{Code: Internal, Message: fmt.Sprintf(format, args...), Err: cause}
}

// InvalidField returns a 400 naming one wrong parameter.
func InvalidField(source, field, rule, reason string) *Error {
	return &Error{Code: Invalid, Message: "Invalid request", Params: []InvalidParam{{Field: field, Reason: reason, Rule: rule, Source: source}}}
}

// CodeOf returns the code of err, Internal when it carries none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries code c.
func Is(err error, c Code) bool { return err != nil && CodeOf(err) == c }
