package store

import (
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
)

// StreamID names one event log stream: the org's ID for the org log, the
// portal's ID for a portal's log. IDs are UUIDs, so the two never collide.
type StreamID string

// Org is a tenant. Every other row belongs to one.
type Org struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// Role is what a token may do.
type Role string

// The roles.
const (
	RoleOrgAdmin      Role = "org-admin"       // everything in the org
	RoleAuditLogAdmin Role = "audit-log-admin" // destinations, webhooks, replay, pull
	RolePortalAdmin   Role = "portal-admin"    // portals and their developers (Kong's "Portal Creator")
	RoleReadOnly      Role = "read-only"       // every GET
	RoleProducer      Role = "producer"        // the ingest API only
)

// ValidRole reports whether r is a known role.
func ValidRole(r Role) bool {
	switch r {
	case RoleOrgAdmin, RoleAuditLogAdmin, RolePortalAdmin, RoleReadOnly, RoleProducer:
		return true
	}
	return false
}

// Token is an API bearer token. Only the SHA-256 of the secret is kept.
type Token struct {
	ID        string
	OrgID     string
	Name      string
	Role      Role
	Hash      []byte // sha256 of the secret
	System    bool   // a system account token (logged as AUTHENTICATION_TYPE_SPAT)
	CreatedAt time.Time
	ExpiresAt time.Time // zero: never
	// OwnerUserID is the org user who owns the token: the console user who
	// created it. "" is an org-level token, owned by no user: created by
	// the operator (sigtrail token create, SIGTRAIL_BOOTSTRAP_TOKEN) or
	// before tokens had owners. Disabling the owner deletes the token
	// (Users.DisableUser), and so would deleting the user.
	OwnerUserID string
}

// Portal is a Dev Portal.
type Portal struct {
	ID                    string
	OrgID                 string
	Name                  string
	DisplayName           string
	Description           string
	AuthenticationEnabled bool
	AutoApproveDevelopers bool
	RBACEnabled           bool
	DefaultAPIVisibility  string // public | private
	DefaultPageVisibility string // public | private
	DefaultDomain         string // unique across all portals
	// CustomDomain is the portal's claim on a custom host name. Several
	// portals may claim one name; the portal listener serves a portal on
	// it only while CustomDomainVerified, which at most one portal has
	// for a name (CustomDomains decides it; CreatePortal and UpdatePortal
	// ignore the field, and a claim that changes is pending again).
	CustomDomain         string
	CustomDomainVerified bool
	// Labels are Kong's key/value metadata (API-validated; nil or empty
	// when none).
	Labels    map[string]string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Destination is where a webhook sends its stream.
type Destination struct {
	ID                  string
	OrgID               string
	Name                string
	Endpoint            string
	Authorization       string // write-only in the API; never logged
	LogFormat           audit.Format
	SkipSSLVerification bool
	// Ordering is how the webhook treats a batch whose retries ran out:
	// OrderingBestEffort (also the empty value) or OrderingStrict.
	Ordering string
	// SequenceNumbers adds each entry's stream and sequence number to its
	// line as signed fields and checkpoint lines to the stream (package
	// tlog), so the SIEM can prove it holds every line.
	SequenceNumbers bool
	// Legacy marks the destination held inline by the v2 org webhook; it is
	// not listed among the org's destinations.
	Legacy    bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SameDelivery reports whether two versions of a destination send the
// same way: they differ at most in name and times. A change that keeps the
// delivery need not reach the dispatchers sending to it, and must not stop
// a request they have in flight (that batch would be sent twice).
func SameDelivery(a, b Destination) bool {
	return a.ID == b.ID && a.OrgID == b.OrgID && a.Endpoint == b.Endpoint && a.Authorization == b.Authorization &&
		a.LogFormat == b.LogFormat && a.SkipSSLVerification == b.SkipSSLVerification &&
		NormalOrdering(a.Ordering) == NormalOrdering(b.Ordering) && a.SequenceNumbers == b.SequenceNumbers &&
		a.Legacy == b.Legacy
}

// Delivery orderings of a destination.
const (
	// OrderingBestEffort records a batch whose retries ran out as a failed
	// range and moves on; the range is sent again later, out of order.
	OrderingBestEffort = "best_effort"
	// OrderingStrict sends nothing newer until the oldest failed batch is
	// delivered (or deleted by retention, which is counted as a loss).
	OrderingStrict = "strict"
)

// NormalOrdering is how backends store o: the empty value is best effort.
func NormalOrdering(o string) string {
	if o == "" {
		return OrderingBestEffort
	}
	return o
}

// Webhook binds a stream to a destination. A stream has at most one.
type Webhook struct {
	Stream        StreamID
	OrgID         string
	PortalID      string // empty for the org webhook
	DestinationID string // may be empty when never set
	Enabled       bool
	UpdatedAt     time.Time
}

// Webhook statuses as the status endpoints report them.
const (
	StatusActive       = "active"
	StatusInactive     = "inactive"
	StatusUnconfigured = "unconfigured"
)

// SeqRange is an inclusive range of sequence numbers in one stream.
type SeqRange struct{ From, To int64 }

// WebhookState is the delivery side of a webhook: where its cursor stands,
// how the last attempt went, and which ranges must be sent again.
type WebhookState struct {
	Stream              StreamID
	Cursor              int64 // the last sequence number handled (sent or recorded as failed)
	Status              string
	LastAttemptAt       time.Time // zero: never attempted
	LastResponseCode    int       // 0 when the last attempt got no HTTP answer
	LastResponseMessage string
	FailedRanges        []SeqRange // ascending
	// LostEntries counts the entries retention deleted before they were
	// delivered; LastLostAt is when the last such loss was found (zero:
	// never).
	LostEntries int64
	LastLostAt  time.Time
}

// Loss is what a dispatcher found deleted before it could deliver it.
type Loss struct {
	// Range is given up: it leaves the failed ranges and the cursor moves
	// to at least its end.
	Range SeqRange
	// Entries is how many entries of Range were missing (deleted), which
	// is at most its length: some may have been delivered in the same
	// step.
	Entries int64
	At      time.Time
}

// CheckLoss refuses a loss that cannot be: backends call it before writing.
func CheckLoss(l Loss) error {
	if l.Range.From <= 0 || l.Range.To < l.Range.From || l.Entries <= 0 || l.Entries > l.Range.To-l.Range.From+1 {
		return apperr.New(apperr.Invalid, "bad loss of %d entries in %d-%d", l.Entries, l.Range.From, l.Range.To)
	}
	return nil
}

// Attempt is the outcome of one delivery attempt, stored with the state.
type Attempt struct {
	At           time.Time
	ResponseCode int
	Message      string
	OK           bool // 2xx
}

// Replay job statuses.
const (
	JobUnconfigured = "unconfigured"
	JobAccepted     = "accepted"
	JobPending      = "pending"
	JobRunning      = "running"
	JobCompleted    = "completed"
	JobFailed       = "failed"
)

// ReplayJob re-sends one time window of a stream through its webhook.
type ReplayJob struct {
	Stream   StreamID
	OrgID    string
	PortalID string
	StartAt  time.Time
	EndAt    time.Time
	Status   string
	Total    int64 // entries in the window when the job started running
	Sent     int64
	Cursor   int64 // last sequence number sent
	// HighSeq is the stream's last sequence number when the job started
	// running: the job sends no entry above it. 0 until it runs.
	HighSeq   int64
	Error     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NewEntry is an entry to append to a stream.
type NewEntry struct {
	Stream StreamID
	Entry  audit.Entry
}

// StoredEntry is an entry with its place in its stream.
type StoredEntry struct {
	Stream StreamID
	Seq    int64
	Entry  audit.Entry
}

// EntryQuery selects entries of one stream. Time bounds are inclusive and
// optional (zero); results are ordered by Seq, ascending unless Desc.
type EntryQuery struct {
	Stream    StreamID
	From, To  time.Time
	Kinds     []audit.Kind // empty: all
	AfterSeq  int64        // only Seq > AfterSeq (0: no bound)
	BeforeSeq int64        // only Seq < BeforeSeq (0: no bound)
	Limit     int
	Desc      bool
}

// Page asks for one page of a list ordered by ID (IDs are UUIDv7, so this
// is creation order). At most one of After and Before is set.
type Page struct {
	After  string
	Before string
	Size   int
}

// NameFilter narrows a list by name.
type NameFilter struct {
	Eq       string
	Contains string
}

// Developer statuses.
const (
	DeveloperPending  = "pending"
	DeveloperApproved = "approved"
	DeveloperRevoked  = "revoked"
	DeveloperRejected = "rejected"
)

// Developer is a Dev Portal account.
type Developer struct {
	ID            string
	PortalID      string
	OrgID         string
	Email         string // unique per portal, compared case-insensitively
	FullName      string
	Status        string
	EmailVerified bool
	PasswordHash  string // argon2id, PHC string; empty until set
	FailedLogins  int
	FailedSince   time.Time // start of the current failure window
	LockedUntil   time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Developer token purposes.
const (
	PurposeVerifyEmail   = "verify-email"
	PurposeResetPassword = "reset-password"
	PurposeSession       = "session"
	PurposeRefresh       = "refresh"
)

// DeveloperToken is a one-time or session secret of a developer; only its
// SHA-256 is kept.
type DeveloperToken struct {
	Hash        []byte
	DeveloperID string
	PortalID    string
	Purpose     string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	// SessionID ties the access (PurposeSession) and refresh tokens of one
	// log-in together, and the pairs a refresh trades them for: ending a
	// session ends them all (Developers.DeleteDeveloperSession). Empty for
	// other purposes, and for sessions opened before it existed.
	SessionID string
}

// SigningKey is an Ed25519 key. The private key never leaves the store.
type SigningKey struct {
	ID         string // kid
	PrivateKey []byte // ed25519.PrivateKey (64 bytes)
	CreatedAt  time.Time
	RetiredAt  time.Time // zero: the active key; else published until RetiredAt+retention
}

// CustomDomainClaim asks CustomDomains.ClaimCustomDomainChecks for checks
// to run.
type CustomDomainClaim struct {
	Now time.Time
	// Hold is how long the claimed checks are not due to anyone else: a
	// replica that takes them and dies leaves them to another after it.
	Hold time.Duration
	// Limit bounds how many due checks are taken (0: one).
	Limit int
	// PortalID, when set, takes that portal's check whether it is due or
	// not (a check on create or update); else the due checks, most
	// overdue first.
	PortalID string
}

// CustomDomainCheck is one portal's custom domain to check, as it stood
// when the check was taken.
type CustomDomainCheck struct {
	PortalID      string
	OrgID         string
	Hostname      string
	DefaultDomain string
	Verified      bool
	Failures      int // consecutive checks that did not find the CNAME
	// Token fences the result: taking a check again (or changing the
	// claim) makes the results of earlier takes stale.
	Token int64
}

// CustomDomainResult is what a check leads to, computed by the caller
// (package customdomain) and stored by RecordCustomDomainCheck.
type CustomDomainResult struct {
	PortalID string
	Hostname string
	Token    int64
	Now      time.Time
	Verified bool // the state the check leads to
	Failures int
	Next     time.Time // when the claim is due again
	// Retry is when a claim that would be verified but whose name
	// another portal has verified is due again; it stays pending.
	Retry time.Time
}

// Outcome is what storing r does to a claim that was verified or not
// (was), when another portal has the name verified (held; asked only when
// r would verify a pending claim): the change and when the claim is due
// again. Every backend's RecordCustomDomainCheck decides by it.
func (r CustomDomainResult) Outcome(was, held bool) (CustomDomainChange, time.Time) {
	ch := CustomDomainChange{Was: was, Verified: r.Verified}
	if r.Verified && !was && held {
		ch.Verified, ch.Contested = false, true
		return ch, r.Retry
	}
	return ch, r.Next
}

// CustomDomainChange is what RecordCustomDomainCheck did.
type CustomDomainChange struct {
	Stale     bool // the claim changed or was taken again since: nothing written
	Contested bool // verification refused: another portal has the name verified
	Was       bool // verified before
	Verified  bool // verified after
}
