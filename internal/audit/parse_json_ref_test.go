package audit

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// The encoding/json implementation ParseJSON had before json_scan.go, kept
// as the reference FuzzScanJSONMatchesReference holds the scanner to.

// refParseJSON is the old parser made as strict as the scanner on the two
// points it was lax: invalid UTF-8 (it decoded it to U+FFFD) and a stray '}'
// or ']' after the object (Decoder.More let them through).
func refParseJSON(line []byte) (Entry, error) {
	if !utf8.Valid(line) {
		return Entry{}, fieldErr("", "is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err == nil {
		if rest := bytes.TrimLeft(line[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
			return Entry{}, fieldErr("", "trailing data after the JSON object")
		}
	}
	return refParseJSONOld(line)
}

// refParseJSONOld is ParseJSON as it was before json_scan.go: it reads one entry in the JSON line format (with or without sig,
// with or without the header keys a server fills in). Unknown keys and wrong
// types are errors. Severity and success, when given, must agree with what
// the rules derive. A zero Time means the line carried neither rt nor
// event_ts; the caller fills it in.
func refParseJSONOld(line []byte) (Entry, error) {
	var j jsonLine
	var e Entry
	if err := refCheckJSONKeys(line); err != nil {
		return e, err
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return e, refJSONDecodeError(err)
	}
	if dec.More() {
		return e, fieldErr("", "trailing data after the JSON object")
	}
	if j.Name == nil || *j.Name == "" {
		return e, fieldErr("name", "is required")
	}
	kind, ok := KindOfName(*j.Name)
	if !ok {
		return e, fieldErr("name", "%q is not AUTHENTICATION_OUTCOME_*, Authz.<resource> or Ingress", *j.Name)
	}
	e.Kind, e.Name = kind, *j.Name
	if kind == KindAuthentication && !Outcome(e.Name).Known() {
		return e, fieldErr("name", "unknown authentication outcome %q", e.Name)
	}
	if j.CEFVersion != nil && *j.CEFVersion != CEFVersion {
		return e, fieldErr("cef_version", "must be 0")
	}
	if j.EventVersion != nil && *j.EventVersion != EventVersion {
		return e, fieldErr("event_version", "must be %q", EventVersion)
	}
	if j.EventProduct != nil {
		e.Product = *j.EventProduct
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	e.ClassID = str(j.EventClassID)
	e.Src, e.OrgID, e.PortalID = str(j.Src), str(j.OrgID), str(j.PortalID)
	e.PrincipalID, e.PrincipalName = str(j.PrincipalID), str(j.PrincipalName)
	e.TraceID, e.UserAgent = str(j.TraceID), str(j.UserAgent)
	if j.KongInitiated != nil {
		b, err := strconv.ParseBool(*j.KongInitiated)
		if err != nil {
			return e, fieldErr("kong_initiated", "must be the string \"true\" or \"false\"")
		}
		e.KongInitiated = b
	}
	switch kind {
	case KindAuthentication:
		if e.ClassID == "" {
			return e, fieldErr("event_class_id", "is required for authentication entries (AUTHENTICATION_TYPE_*)")
		}
		e.Request = str(j.Request)
		if j.Success != nil && *j.Success != e.Success() {
			return e, fieldErr("success", "contradicts name %s", e.Name)
		}
		if err := onlyFor("authentication", map[string]bool{"action": j.Action != nil, "granted": j.Granted != nil,
			"actor_id": j.ActorID != nil, "query": j.Query != nil, "act": j.Act != nil, "status": j.Status != nil,
			"kong_initiated": j.KongInitiated != nil}); err != nil {
			return e, err
		}
	case KindAuthorization:
		if e.ClassID == "" {
			e.ClassID = AuthzClassID
		}
		if j.Granted == nil {
			return e, fieldErr("granted", "is required for authorization entries")
		}
		e.Granted, e.Action, e.ActorID = *j.Granted, str(j.Action), str(j.ActorID)
		if err := onlyFor("authorization", map[string]bool{"request": j.Request != nil, "success": j.Success != nil,
			"query": j.Query != nil, "act": j.Act != nil, "status": j.Status != nil, "portal_id": j.PortalID != nil}); err != nil {
			return e, err
		}
	case KindAccess:
		if e.ClassID == "" {
			e.ClassID = AccessClassGateway
		}
		if j.Status == nil {
			return e, fieldErr("status", "is required for access entries")
		}
		if *j.Status < 100 || *j.Status > 599 {
			return e, fieldErr("status", "must be an HTTP status between 100 and 599")
		}
		e.Status, e.Request, e.Query, e.Act = *j.Status, str(j.Request), str(j.Query), str(j.Act)
		if err := onlyFor("access", map[string]bool{"success": j.Success != nil, "granted": j.Granted != nil,
			"action": j.Action != nil, "actor_id": j.ActorID != nil, "portal_id": j.PortalID != nil}); err != nil {
			return e, err
		}
	}
	switch {
	case j.RT != nil:
		e.Time = time.UnixMilli(*j.RT).UTC()
	case j.EventTS != nil:
		t, err := time.Parse(time.RFC3339Nano, *j.EventTS)
		if err != nil {
			return e, fieldErr("event_ts", "must be an RFC 3339 timestamp")
		}
		e.Time = t.UTC()
	}
	if j.Severity != nil && *j.Severity != e.Severity() {
		return e, fieldErr("severity", "is %d but the rules give %d for this entry", *j.Severity, e.Severity())
	}
	return e, nil
}

func refJSONDecodeError(err error) error {
	switch t := err.(type) {
	case *json.UnmarshalTypeError:
		return fieldErr(t.Field, "must be of type %s", t.Type.String())
	case *json.SyntaxError:
		return fieldErr("", "malformed JSON at byte %d", t.Offset)
	}
	if s := err.Error(); len(s) > 0 {
		const unknown = "json: unknown field "
		if len(s) > len(unknown) && s[:len(unknown)] == unknown {
			f, _ := strconv.Unquote(s[len(unknown):])
			return fieldErr(f, "unknown field")
		}
	}
	return fieldErr("", "malformed JSON")
}

// refCheckJSONKeys rejects what encoding/json would silently accept: a key
// given twice (the last would win, so a producer's value could be
// overridden inside one line) and keys that differ from the format's only
// by case.
func refCheckJSONKeys(line []byte) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	if t, err := dec.Token(); err != nil {
		return refJSONDecodeError(err)
	} else if d, ok := t.(json.Delim); !ok || d != '{' {
		return fieldErr("", "a line must be one JSON object")
	}
	seen := make(map[string]bool, 32)
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return refJSONDecodeError(err)
		}
		k, _ := t.(string)
		if !refKnownJSONKey(k) {
			return fieldErr(k, "unknown field")
		}
		if seen[k] {
			return fieldErr(k, "given more than once")
		}
		seen[k] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return refJSONDecodeError(err)
		}
	}
	return nil
}

func refKnownJSONKey(k string) bool {
	if k == "sig" {
		return true
	}
	for _, n := range jsonKeyNames {
		if n == k {
			return true
		}
	}
	return false
}
