package audit

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Entry turns a parsed CEF line of a known kind back into the entry it
// records. The kind comes from the name, as Kong advises. Every field the
// kind requires must be there, no field of another kind may be, and the
// derived values (severity, success) must agree with the rules, and every
// value must be valid UTF-8, so that rendering the entry again gives the
// same line. The vendor and the prefix are deployment settings and are not
// part of an entry; rt gives the time.
func (l *CEFLine) Entry() (Entry, error) {
	var e Entry
	if l.Version != strconv.Itoa(CEFVersion) {
		return e, fieldErr("version", "must be %d", CEFVersion)
	}
	if l.DeviceVersion != EventVersion {
		return e, fieldErr("device_version", "must be %q", EventVersion)
	}
	kind, ok := KindOfName(l.Name)
	if !ok {
		return e, fieldErr("name", "%q is not AUTHENTICATION_OUTCOME_*, Authz.<resource> or Ingress", l.Name)
	}
	if kind == KindAuthentication && !Outcome(l.Name).Known() {
		return e, fieldErr("name", "unknown authentication outcome %q", l.Name)
	}
	for _, h := range [...]struct{ k, v string }{{"device_product", l.DeviceProduct},
		{"device_event_class_id", l.DeviceEventClassID}, {"name", l.Name}} {
		if !utf8.ValidString(h.v) {
			return e, fieldErr(h.k, "is not valid UTF-8")
		}
	}
	e.Kind, e.Name, e.Product, e.ClassID = kind, l.Name, l.DeviceProduct, l.DeviceEventClassID

	var seen [len(fieldKeys)]bool
	var success *bool
	for i, x := range l.Extensions {
		if x.Key == "sig" {
			if i != len(l.Extensions)-1 {
				return e, fieldErr("sig", "must be the last extension")
			}
			continue
		}
		f, ok := fieldOfKey(kind, x.Key)
		if !ok {
			return e, fieldErr(x.Key, "does not belong in %s entries", kind)
		}
		seen[f] = true
		if err := setCEFField(&e, f, x.Value, &success); err != nil {
			return e, err
		}
	}
	for _, f := range cefOrder[kind] {
		if !seen[f] && !optionalField(f) {
			return e, fieldErr(fieldKeys[f], "is required in %s entries", kind)
		}
	}
	if success != nil && *success != e.Success() {
		return e, fieldErr("success", "contradicts name %s", e.Name)
	}
	if want := strconv.Itoa(e.Severity()); l.Severity != want {
		return e, fieldErr("severity", "is %q but the rules give %s for this entry", l.Severity, want)
	}
	return e, nil
}

func optionalField(f field) bool {
	return f == fPortalID || f == fPrincipalName || f == fKongInitiated
}

func fieldOfKey(k Kind, key string) (field, bool) {
	for _, f := range cefOrder[k] {
		if fieldKeys[f] == key {
			return f, true
		}
	}
	return 0, false
}

func setCEFField(e *Entry, f field, v string, success **bool) error {
	switch f {
	case fRT:
		ms, err := canonicalInt(v)
		if err != nil {
			return fieldErr("rt", "must be milliseconds since the epoch: %v", err)
		}
		e.Time = time.UnixMilli(ms).UTC()
	case fStatus:
		n, err := canonicalInt(v)
		if err != nil || n < 0 || n > 999 {
			return fieldErr("status", "must be an HTTP status")
		}
		e.Status = int(n)
	case fSuccess, fGranted, fKongInitiated:
		var b bool
		switch v {
		case "true":
			b = true
		case "false":
		default:
			return fieldErr(fieldKeys[f], "must be true or false")
		}
		switch f {
		case fSuccess:
			*success = &b
		case fGranted:
			e.Granted = b
		default:
			e.KongInitiated = b
		}
	default:
		// sigtrail writes only valid UTF-8 (linebreak.go); an entry holding
		// anything else would not render back to the line it came from.
		if !utf8.ValidString(v) {
			return fieldErr(fieldKeys[f], "is not valid UTF-8")
		}
		*stringField(e, f) = v
	}
	return nil
}

// canonicalInt accepts only the spelling strconv.FormatInt would produce,
// so a line re-rendered from its entry is byte for byte the same.
func canonicalInt(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, err
	}
	if strconv.FormatInt(n, 10) != s {
		return 0, strconv.ErrSyntax
	}
	return n, nil
}

// stringField points at the Entry field behind a string-typed extension.
func stringField(e *Entry, f field) *string {
	switch f {
	case fSrc:
		return &e.Src
	case fRequest:
		return &e.Request
	case fAction:
		return &e.Action
	case fAct:
		return &e.Act
	case fOrgID:
		return &e.OrgID
	case fPortalID:
		return &e.PortalID
	case fPrincipalID:
		return &e.PrincipalID
	case fPrincipalName:
		return &e.PrincipalName
	case fActorID:
		return &e.ActorID
	case fTraceID:
		return &e.TraceID
	case fUserAgent:
		return &e.UserAgent
	case fQuery:
		return &e.Query
	}
	panic("audit: field " + fieldKeys[f] + " is not a string")
}
