package portal

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/sigtrail/sigtrail/internal/apperr"
)

const (
	maxEmailLen    = 250
	maxFullNameLen = 256
)

// fieldError is a 400 naming one field, with the contract's detail line.
func fieldError(detail, field, rule, reason string) *apperr.Error {
	return &apperr.Error{Code: apperr.Invalid, Message: detail,
		Params: []apperr.InvalidParam{{Field: field, Reason: reason, Rule: rule, Source: "body"}}}
}

func requiredError(field string) *apperr.Error {
	return fieldError("Required fields are missing", field, "required", "is required")
}

// checkEmail accepts a bare address (no display name, no comments), as the
// contract's format: email means.
func checkEmail(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", requiredError(field)
	}
	if len(s) > maxEmailLen {
		return "", fieldError("Invalid email address", field, "invalid", "must be at most 250 characters")
	}
	a, err := mail.ParseAddress(s)
	// ASCII only: relays without SMTPUTF8 refuse other addresses, and the
	// verification email must reach the developer.
	if err != nil || a.Address != s || a.Name != "" || !isPrintableASCII(s) {
		return "", fieldError("Invalid email address", field, "invalid", "must be a valid email address")
	}
	return s, nil
}

func checkFullName(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", requiredError("full_name")
	case !utf8.ValidString(s) || hasControl(s):
		return "", fieldError("Invalid full name", "full_name", "invalid", "must be printable text")
	case utf8.RuneCountInString(s) > maxFullNameLen:
		return "", fieldError("Invalid full name", "full_name", "invalid", "must be at most 256 characters")
	}
	return s, nil
}

func checkNewPassword(s string) error {
	switch {
	case s == "":
		return requiredError("password")
	case len(s) > maxPasswordLen:
		return fieldError("Invalid password", "password", "invalid", "must be at most 256 bytes")
	case utf8.RuneCountInString(s) < minPasswordLen:
		return fieldError("Invalid password", "password", "invalid", "must be at least 8 characters")
	}
	return nil
}

// checkToken accepts the UUID form the contract gives emailed tokens.
func checkToken(s string) (string, error) {
	if s == "" {
		return "", requiredError("token")
	}
	u, err := uuid.Parse(s)
	if err != nil || u.String() != strings.ToLower(s) {
		return "", fieldError("The provided token is invalid", "token", "is_uuid", "invalid ID format")
	}
	return u.String(), nil
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
