package audit

// field identifies one extension. The order of each kind's list is the CEF
// extension order, chosen to match Kong's published examples; sig always
// follows them.
type field uint8

const (
	fRT field = iota
	fSrc
	fRequest
	fSuccess
	fAction
	fGranted
	fAct
	fStatus
	fOrgID
	fPortalID
	fPrincipalID
	fPrincipalName
	fActorID
	fKongInitiated
	fTraceID
	fUserAgent
	fQuery
)

var fieldKeys = [...]string{
	fRT:            "rt",
	fSrc:           "src",
	fRequest:       "request",
	fSuccess:       "success",
	fAction:        "action",
	fGranted:       "granted",
	fAct:           "act",
	fStatus:        "status",
	fOrgID:         "org_id",
	fPortalID:      "portal_id",
	fPrincipalID:   "principal_id",
	fPrincipalName: "principal_name",
	fActorID:       "actor_id",
	fKongInitiated: "kong_initiated",
	fTraceID:       "trace_id",
	fUserAgent:     "user_agent",
	fQuery:         "query",
}

// cefOrder is the extension order per kind (index by Kind).
var cefOrder = [...][]field{
	KindAuthentication: {fRT, fSrc, fRequest, fSuccess, fOrgID, fPortalID, fPrincipalID, fPrincipalName, fTraceID, fUserAgent},
	KindAuthorization:  {fRT, fSrc, fAction, fGranted, fOrgID, fPrincipalID, fPrincipalName, fActorID, fKongInitiated, fTraceID, fUserAgent},
	KindAccess:         {fRT, fSrc, fRequest, fAct, fStatus, fOrgID, fPrincipalID, fPrincipalName, fKongInitiated, fUserAgent, fTraceID, fQuery},
}

// present reports whether an optional field is emitted for e. Fields not
// listed here are always emitted, even when empty (Kong writes user_agent=).
func present(e *Entry, f field) bool {
	switch f {
	case fPortalID:
		return e.PortalID != ""
	case fPrincipalName:
		return e.PrincipalName != ""
	case fKongInitiated:
		return e.KongInitiated
	}
	return true
}

// stringValue returns the value of a string-typed field.
func stringValue(e *Entry, f field) string {
	switch f {
	case fSrc:
		return e.Src
	case fRequest:
		return e.Request
	case fAction:
		return e.Action
	case fAct:
		return e.Act
	case fOrgID:
		return e.OrgID
	case fPortalID:
		return e.PortalID
	case fPrincipalID:
		return e.PrincipalID
	case fPrincipalName:
		return e.PrincipalName
	case fActorID:
		return e.ActorID
	case fTraceID:
		return e.TraceID
	case fUserAgent:
		return e.UserAgent
	case fQuery:
		return e.Query
	case fKongInitiated:
		if e.KongInitiated {
			return "true"
		}
		return "false"
	}
	return ""
}

func validKind(k Kind) bool { return k >= KindAuthentication && k <= KindAccess }
