package audit

import (
	"strings"
	"time"
)

// Kind is one of the three event kinds an audit entry can be.
type Kind uint8

// The event kinds. Their numeric values are stored, so never reorder them.
const (
	KindAuthentication Kind = 1
	KindAuthorization  Kind = 2
	KindAccess         Kind = 3
)

// String returns the kind's name as the v3 pull API spells it in filter[type].
func (k Kind) String() string {
	switch k {
	case KindAuthentication:
		return "authentication"
	case KindAuthorization:
		return "authorization"
	case KindAccess:
		return "gateway_access"
	}
	return "unknown"
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, bool) {
	switch s {
	case "authentication":
		return KindAuthentication, true
	case "authorization":
		return KindAuthorization, true
	case "gateway_access":
		return KindAccess, true
	}
	return 0, false
}

// Products, the CEF device product of a stream.
const (
	ProductKonnect   = "Konnect"
	ProductDevPortal = "Dev-Portal"
)

// Authentication types (the event class id of authentication entries).
const (
	AuthTypeBasic = "AUTHENTICATION_TYPE_BASIC"
	AuthTypePAT   = "AUTHENTICATION_TYPE_PAT"
	AuthTypeSPAT  = "AUTHENTICATION_TYPE_SPAT"
	AuthTypeSSO   = "AUTHENTICATION_TYPE_SSO"
)

// Outcome is the result of an authentication attempt; it is the entry's name.
type Outcome string

// The authentication outcomes Kong documents.
const (
	OutcomeSuccess         Outcome = "AUTHENTICATION_OUTCOME_SUCCESS"
	OutcomeNotFound        Outcome = "AUTHENTICATION_OUTCOME_NOT_FOUND"
	OutcomeInvalidPassword Outcome = "AUTHENTICATION_OUTCOME_INVALID_PASSWORD"
	OutcomeTokenExpired    Outcome = "AUTHENTICATION_OUTCOME_TOKEN_EXPIRED"
	OutcomeLocked          Outcome = "AUTHENTICATION_OUTCOME_LOCKED"
	OutcomeDisabled        Outcome = "AUTHENTICATION_OUTCOME_DISABLED"
	OutcomeInvalid         Outcome = "AUTHENTICATION_OUTCOME_INVALID"
)

const outcomePrefix = "AUTHENTICATION_OUTCOME_"

// Known reports whether o is one of the documented outcomes.
func (o Outcome) Known() bool {
	switch o {
	case OutcomeSuccess, OutcomeNotFound, OutcomeInvalidPassword, OutcomeTokenExpired,
		OutcomeLocked, OutcomeDisabled, OutcomeInvalid:
		return true
	}
	return false
}

// Names and class ids of the other two kinds.
const (
	AuthzNamePrefix    = "Authz."
	AuthzClassID       = "konnect"
	AccessName         = "Ingress"
	AccessClassGateway = "KongGateway"
	AccessClassIngress = "Ingress"
	CEFVersion         = 0
	DefaultVendor      = "KongInc"
	DefaultHost        = "konghq.com"
	EventVersion       = "1.0"
)

// Authorization actions used by sigtrail's own API.
const (
	ActionRetrieve = "retrieve"
	ActionList     = "list"
	ActionEdit     = "edit"
	ActionCreate   = "create"
	ActionDelete   = "delete"
)

// Entry is one audit event before it is formatted. Which fields are emitted
// depends on Kind; severity and success are derived, never stored.
type Entry struct {
	Kind    Kind
	Time    time.Time // rt (milliseconds) and the timestamp / event_ts (seconds)
	Product string    // ProductKonnect or ProductDevPortal
	// ClassID is the CEF device event class id: the authentication type, the
	// authorizing service, or KongGateway/Ingress for access entries.
	ClassID string
	// Name is the CEF name: the outcome, Authz.<resource>, or Ingress.
	Name string

	Src           string
	OrgID         string
	PortalID      string // authentication entries of a Dev Portal stream only
	PrincipalID   string
	PrincipalName string // emitted only when non-empty
	KongInitiated bool   // emitted only when true (authorization and access)
	TraceID       string
	UserAgent     string

	Request string // authentication and access: the path
	Action  string // authorization
	Granted bool   // authorization
	ActorID string // authorization
	Query   string // access
	Act     string // access: the HTTP method
	Status  int    // access: the HTTP status

	// TokenID is the API token that wrote an ingested entry. It is stored
	// and shown by the pull API but is no line field (Kong's formats have
	// none), so lines stay as they were.
	TokenID string
}

// Outcome returns the authentication outcome named by the entry.
func (e *Entry) Outcome() Outcome { return Outcome(e.Name) }

// Success reports whether an authentication entry records a success.
func (e *Entry) Success() bool {
	return e.Kind == KindAuthentication && e.Name == string(OutcomeSuccess)
}

// Severity derives the CEF severity from the outcome, the grant or the HTTP
// status, following Kong's published rules.
func (e *Entry) Severity() int {
	switch e.Kind {
	case KindAuthentication:
		switch Outcome(e.Name) {
		case OutcomeSuccess:
			return 0
		case OutcomeNotFound, OutcomeInvalidPassword, OutcomeTokenExpired:
			return 1
		case OutcomeLocked, OutcomeDisabled:
			return 6
		}
		return 7
	case KindAuthorization:
		if e.Granted {
			return 1
		}
		return 6
	case KindAccess:
		switch {
		case e.Status == 401 || e.Status == 403:
			return 6
		case e.Status >= 500:
			return 10
		}
		return 1
	}
	return 7
}

// KindOfName tells the kind of an entry from its name, as Kong advises
// consumers to do.
func KindOfName(name string) (Kind, bool) {
	switch {
	case strings.HasPrefix(name, outcomePrefix):
		return KindAuthentication, true
	case strings.HasPrefix(name, AuthzNamePrefix) && len(name) > len(AuthzNamePrefix):
		return KindAuthorization, true
	case name == AccessName:
		return KindAccess, true
	}
	return 0, false
}
