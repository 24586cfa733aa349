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

// exactKeys rejects keys that encoding/json matched to a field only
// case-insensitively ("Enabled" for "enabled"), at any depth
// ({"theme":{"Colors":...}} too): the API's properties are case-sensitive,
// and a client that misspells one must hear about it. It also rejects an
// object that names a key twice, which encoding/json settles silently in
// favour of the last (a proxy or WAF in front may read the first), and a
// string with a lone UTF-16 surrogate escape ("\ud800"), which it turns
// into U+FFFD: text the sender never wrote, as raw invalid UTF-8 would be.
func exactKeys(body []byte, dst any) error {
	if err := duplicateKeys(body); err != nil {
		return err
	}
	if loneSurrogate(body) {
		return apperr.InvalidField("body", "body", "type", "must not hold a lone UTF-16 surrogate escape (\\ud800-\\udfff)")
	}
	return checkKeys(body, reflect.TypeOf(dst), "")
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// checkKeys walks raw along t: object keys of structs must be their
// fields' names exactly; slices, arrays and maps are walked into. Types
// that decode themselves are left to their own rules.
func checkKeys(raw []byte, t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil // null, or not an object: the decoder had its say
		}
		known := map[string]reflect.Type{}
		collectJSONNames(t, known)
		for k, v := range obj {
			ft, ok := known[k]
			if !ok {
				return apperr.InvalidField("body", path+k, "unknown_property", "is not a known property (names are case-sensitive)")
			}
			if err := checkKeys(v, ft, path+k+"."); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil
		}
		for _, v := range items {
			if err := checkKeys(v, t.Elem(), path); err != nil {
				return err
			}
		}
	case reflect.Map:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil
		}
		for k, v := range obj {
			if err := checkKeys(v, t.Elem(), path+k+"."); err != nil {
				return err
			}
		}
	}
	return nil
}

func collectJSONNames(t reflect.Type, known map[string]reflect.Type) {
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
		known[name] = f.Type
	}
}

// duplicateKeys names the first key an object of body gives twice.
// body is one valid JSON value (the decoder accepted it).
func duplicateKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool // the next token of an object is a key
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // io.EOF; anything else the decoder already refused
		}
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if k, isKey := tok.(string); isKey && top != nil && top.object && top.key {
			if top.keys[k] {
				return apperr.InvalidField("body", k, "invalid", "is given more than once")
			}
			top.keys[k] = true
			top.key = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{object: true, keys: map[string]bool{}, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value (or a closed container) ends; in an object a key is next.
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].key = true
		}
	}
}

// loneSurrogate reports whether a string of body (valid JSON) holds a
// \uD800-\uDFFF escape that is not half of a surrogate pair.
func loneSurrogate(body []byte) bool {
	hex4 := func(i int) (rune, bool) {
		if i+6 > len(body) || body[i] != '\\' || body[i+1] != 'u' {
			return 0, false
		}
		var r rune
		for _, c := range body[i+2 : i+6] {
			switch {
			case '0' <= c && c <= '9':
				r = r<<4 | rune(c-'0')
			case 'a' <= c && c <= 'f':
				r = r<<4 | rune(c-'a'+10)
			case 'A' <= c && c <= 'F':
				r = r<<4 | rune(c-'A'+10)
			default:
				return 0, false
			}
		}
		return r, true
	}
	in := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case !in:
			in = c == '"'
		case c == '"':
			in = false
		case c == '\\':
			r, ok := hex4(i)
			if !ok {
				i++ // a two-character escape
				continue
			}
			switch {
			case 0xD800 <= r && r < 0xDC00:
				lo, ok := hex4(i + 6)
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return true
				}
				i += 11
			case 0xDC00 <= r && r <= 0xDFFF:
				return true
			default:
				i += 5
			}
		}
	}
	return false
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
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "integer"
	case "float32", "float64":
		return "number"
	case "slice", "array":
		return "array"
	case "map", "struct", "ptr":
		return "object"
	}
	return kind
}
