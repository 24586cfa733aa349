package audit

import (
	"fmt"
	"strconv"
	"time"
)

// jsonLine mirrors the JSON line format. Pointers tell absent from zero.
type jsonLine struct {
	CEFVersion    *int    `json:"cef_version"`
	EventTS       *string `json:"event_ts"`
	EventVendor   *string `json:"event_vendor"`
	EventProduct  *string `json:"event_product"`
	EventVersion  *string `json:"event_version"`
	EventClassID  *string `json:"event_class_id"`
	Name          *string `json:"name"`
	Severity      *int    `json:"severity"`
	RT            *int64  `json:"rt"`
	Src           *string `json:"src"`
	OrgID         *string `json:"org_id"`
	PortalID      *string `json:"portal_id"`
	PrincipalID   *string `json:"principal_id"`
	PrincipalName *string `json:"principal_name"`
	KongInitiated *string `json:"kong_initiated"`
	TraceID       *string `json:"trace_id"`
	UserAgent     *string `json:"user_agent"`
	Request       *string `json:"request"`
	Success       *bool   `json:"success"`
	Action        *string `json:"action"`
	Granted       *bool   `json:"granted"`
	ActorID       *string `json:"actor_id"`
	Query         *string `json:"query"`
	Act           *string `json:"act"`
	Status        *int    `json:"status"`
	Sig           *string `json:"sig"`
}

// FieldError says which field of an entry is wrong and why.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ParseJSON reads one entry in the JSON line format (with or without sig,
// with or without the header keys a server fills in). Unknown keys and wrong
// types are errors. Severity and success, when given, must agree with what
// the rules derive. A zero Time means the line carried neither rt nor
// event_ts; the caller fills it in.
func ParseJSON(line []byte) (Entry, error) {
	j, err := scanJSONLine(line)
	if err != nil {
		return Entry{}, err
	}
	return entryFromJSONLine(j)
}

// entryFromJSONLine checks the fields of a decoded line against the rules of
// its kind and builds the entry.
func entryFromJSONLine(j *jsonLine) (Entry, error) {
	var e Entry
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

func onlyFor(kind string, set map[string]bool) error {
	for _, k := range []string{"request", "success", "action", "granted", "actor_id", "query", "act", "status", "portal_id", "kong_initiated"} {
		if set[k] {
			return fieldErr(k, "does not belong in %s entries", kind)
		}
	}
	return nil
}
