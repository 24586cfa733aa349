package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/sigtrail/sigtrail/internal/apperr"
)

// DefaultMaxBody caps JSON request bodies of the management APIs.
const DefaultMaxBody = 1 << 20

// DecodeJSON reads the request body into dst: at most maxBytes (413 beyond),
// exactly one JSON value, unknown fields rejected, wrong types named. Every
// failure is an apperr with the offending field as an invalid parameter.
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any, maxBytes int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return apperr.New(apperr.Unsupported, "Content-Type must be application/json")
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.New(apperr.TooLarge, "Request body is larger than %d bytes", maxBytes)
		}
		return apperr.New(apperr.Invalid, "Could not read the request body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return &apperr.Error{Code: apperr.Invalid, Message: "Request body is required",
			Params: []apperr.InvalidParam{{Field: "body", Reason: "is required", Rule: "required", Source: "body"}}}
	}
	// JSON is UTF-8 (RFC 8259); the decoder would quietly turn bad bytes
	// into U+FFFD and store text the sender never wrote.
	if !utf8.Valid(body) {
		return apperr.InvalidField("body", "body", "type", "must be UTF-8")
	}
	// null would decode into nothing at all and let a write pass as a no-op.
	if bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
		return apperr.InvalidField("body", "body", "type", "must be a JSON object, not null")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return apperr.InvalidField("body", "body", "type", "must hold exactly one JSON object")
	}
	return exactKeys(body, dst)
}

// exactKeys rejects top-level keys that encoding/json matched to a field
// only case-insensitively ("Enabled" for "enabled"): the API's properties
// are case-sensitive, and a client that misspells one must hear about it.
func exactKeys(body []byte, dst any) error {
	t := reflect.TypeOf(dst)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return nil
	}
	known := map[string]bool{}
	collectJSONNames(t, known)
	for k := range obj {
		if !known[k] {
			return apperr.InvalidField("body", k, "unknown_property", "is not a known property (names are case-sensitive)")
		}
	}
	return nil
}

func collectJSONNames(t reflect.Type, known map[string]bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				collectJSONNames(ft, known)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		known[name] = true
	}
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return apperr.InvalidField("body", "body", "type", fmt.Sprintf("malformed JSON at byte %d", syn.Offset))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return apperr.InvalidField("body", field, "type", "must be of type "+jsonTypeName(typ.Type.Kind().String()))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.InvalidField("body", "body", "type", "malformed JSON: unexpected end")
	}
	const unknown = "json: unknown field "
	if s := err.Error(); strings.HasPrefix(s, unknown) {
		return apperr.InvalidField("body", strings.Trim(s[len(unknown):], `"`), "unknown_property", "is not a known property")
	}
	return apperr.InvalidField("body", "body", "type", "malformed JSON")
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "number"
	case "slice", "array":
		return "array"
	case "map", "struct", "ptr":
		return "object"
	}
	return kind
}
