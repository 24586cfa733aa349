package store

import (
	"context"
	"time"
)

// EventLog is the durable, append-only log of entries.
type EventLog interface {
	// Append stores entries durably (fsync'd) before it returns and gives
	// each its sequence number in its stream, in order. Concurrent calls share
	// commits. Sequence numbers are dense per stream and a reader never sees a
	// gap fill in later.
	Append(ctx context.Context, entries []NewEntry) ([]int64, error)
	// Read returns up to limit entries of stream with Seq > after, ascending.
	Read(ctx context.Context, stream StreamID, after int64, limit int) ([]StoredEntry, error)
	// Query selects entries by time, kind and sequence bounds.
	Query(ctx context.Context, q EntryQuery) ([]StoredEntry, error)
	// Count counts the entries Query would return without Limit.
	Count(ctx context.Context, q EntryQuery) (int64, error)
	// LastSeq is the highest sequence number of stream, 0 when empty.
	LastSeq(ctx context.Context, stream StreamID) (int64, error)
	// DeleteBefore deletes up to limit entries (all streams) older than cutoff
	// and says how many it deleted; callers loop in small batches.
	DeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int, error)
}

// Tenancy keeps orgs and their API tokens.
type Tenancy interface {
	CreateOrg(ctx context.Context, o Org) error // Conflict on a taken name
	GetOrg(ctx context.Context, id string) (Org, error)
	GetOrgByName(ctx context.Context, name string) (Org, error)
	ListOrgs(ctx context.Context) ([]Org, error)
	// CreateToken stores t: Conflict on a reused hash or ID, NotFound for
	// an unknown org or an owner who is no user of the org, Conflict for a
	// disabled owner. The owner is checked under its row lock in the same
	// transaction, so a token created while its owner is being disabled
	// either is deleted with the owner's tokens or is not created.
	CreateToken(ctx context.Context, t Token) error
	GetTokenByHash(ctx context.Context, hash []byte) (Token, error)
	ListTokens(ctx context.Context, orgID string) ([]Token, error)
	DeleteToken(ctx context.Context, orgID, id string) error
}

// Portals keeps Dev Portals.
type Portals interface {
	CreatePortal(ctx context.Context, p Portal) error // Conflict on a taken domain or name in the org
	GetPortal(ctx context.Context, orgID, id string) (Portal, error)
	// GetPortalByDomain finds a portal by its default or custom domain
	// (lower-case host without port), across all orgs.
	GetPortalByDomain(ctx context.Context, domain string) (Portal, error)
	ListPortals(ctx context.Context, orgID string, f NameFilter, p Page) ([]Portal, bool, error)
	// UpdatePortal replaces p; a changed custom or default domain makes
	// the custom domain a new, pending claim (CustomDomains).
	UpdatePortal(ctx context.Context, p Portal) error
	// DeletePortal also deletes its webhook, developers and entries. Giving
	// up a verified custom domain (here or in UpdatePortal) makes the other
	// claims on the name due at once.
	DeletePortal(ctx context.Context, orgID, id string) error
}

// CustomDomains keeps the DNS checks of portals' custom domains (the
// claims are Portal.CustomDomain). Any number of processes may check at
// once: a check is taken (ClaimCustomDomainChecks) before it is run and
// its result stored only while that take is the latest.
type CustomDomains interface {
	// ClaimCustomDomainChecks takes checks to run (c.PortalID's, or up to
	// c.Limit due ones), makes them due again no sooner than c.Now+c.Hold,
	// and gives each a new Token. Concurrent callers take different
	// checks. A portal without a claim has no check (an empty result).
	ClaimCustomDomainChecks(ctx context.Context, c CustomDomainClaim) ([]CustomDomainCheck, error)
	// RecordCustomDomainCheck stores r when the portal still claims
	// r.Hostname and r.Token is its latest take (else Stale, nothing
	// written). Verification is refused while another portal has the name
	// verified (Contested: pending, due at r.Retry). A claim that stops
	// being verified, or is Contested, makes the other claims on its name
	// (the holder's among them) due at r.Now.
	RecordCustomDomainCheck(ctx context.Context, r CustomDomainResult) (CustomDomainChange, error)
}

// Destinations keeps audit-log destinations.
type Destinations interface {
	CreateDestination(ctx context.Context, d Destination) error
	GetDestination(ctx context.Context, orgID, id string) (Destination, error)
	// ListDestinations lists the org's non-legacy destinations; the bool says
	// whether more items lie beyond the page in its direction.
	ListDestinations(ctx context.Context, orgID string, f NameFilter, p Page) ([]Destination, bool, error)
	UpdateDestination(ctx context.Context, d Destination) error
	// DeleteDestination is a Conflict while a webhook refers to it.
	DeleteDestination(ctx context.Context, orgID, id string) error
}

// Webhooks keeps webhook configuration and delivery state.
type Webhooks interface {
	GetWebhook(ctx context.Context, stream StreamID) (Webhook, error) // NotFound: unconfigured
	// PutWebhook creates or replaces a webhook. When it is created, its state
	// is created too with the cursor at the stream's end, so a new webhook
	// sends only what comes after it.
	PutWebhook(ctx context.Context, w Webhook) error
	// DeleteWebhook removes the webhook and its state.
	DeleteWebhook(ctx context.Context, stream StreamID) error
	ListEnabledWebhooks(ctx context.Context) ([]Webhook, error)
	// WebhooksUsingDestination lists the webhooks that point at a destination.
	WebhooksUsingDestination(ctx context.Context, orgID, destinationID string) ([]Webhook, error)

	GetWebhookState(ctx context.Context, stream StreamID) (WebhookState, error)
	// The four writes of delivery state below are fenced: with a fence
	// other than NoFence they succeed only while WebhookLease(stream) has
	// that epoch, and fail with ErrLeaseLost otherwise, writing nothing.

	// RecordAttempt stores the outcome of an attempt and sets the status:
	// active after a 2xx, inactive otherwise.
	RecordAttempt(ctx context.Context, stream StreamID, fence Fence, a Attempt) error
	// AdvanceCursor moves the cursor to seq (never backwards) and, when failed
	// is set, records the range as failed, in one transaction.
	AdvanceCursor(ctx context.Context, stream StreamID, fence Fence, seq int64, failed *SeqRange) error
	// ResolveFailedRange removes a failed range once it has been sent again.
	ResolveFailedRange(ctx context.Context, stream StreamID, fence Fence, r SeqRange) error
	// RecordLoss gives up l.Range (removed from the failed ranges, the
	// cursor moved to at least its end) and adds l.Entries to the lost
	// entries with l.At as the last loss, in one transaction, so a range is
	// never resolved without its loss being counted.
	RecordLoss(ctx context.Context, stream StreamID, fence Fence, l Loss) error
}

// CursorDeferrer is implemented by a store that can make a delivered
// batch's cursor move in its next write transaction instead of one of its
// own (the SQLite store). The move shows in GetWebhookState at once; a
// process crash before the next transaction loses it, so the batch may be
// sent again, never lost. For a dispatcher without a lease fence only.
type CursorDeferrer interface {
	DeferCursor(stream StreamID, seq int64)
}

// ReplayJobs keeps the one replay job of each stream.
type ReplayJobs interface {
	GetReplayJob(ctx context.Context, stream StreamID) (ReplayJob, error) // NotFound: unconfigured
	// PutReplayJob replaces the stream's job unless one is pending or running
	// (Conflict), atomically.
	PutReplayJob(ctx context.Context, j ReplayJob) error
	// UpdateReplayJob stores a job's progress; with a fence other than
	// NoFence only while ReplayLease(j.Stream) has that epoch (else
	// ErrLeaseLost, writing nothing).
	UpdateReplayJob(ctx context.Context, j ReplayJob, fence Fence) error
	// ListActiveReplayJobs lists accepted, pending and running jobs, for a
	// restart to resume them.
	ListActiveReplayJobs(ctx context.Context) ([]ReplayJob, error)
}

// Developers keeps Dev Portal accounts and their tokens.
type Developers interface {
	CreateDeveloper(ctx context.Context, d Developer) error // Conflict on a taken email in the portal
	GetDeveloper(ctx context.Context, portalID, id string) (Developer, error)
	GetDeveloperByEmail(ctx context.Context, portalID, email string) (Developer, error)
	ListDevelopers(ctx context.Context, portalID string, p Page) ([]Developer, bool, error)
	UpdateDeveloper(ctx context.Context, d Developer) error
	// RecordLoginFailure counts one failed login of the developer at now
	// under p (LockoutPolicy.CountFailure) atomically, so failures that
	// reach several replicas at once all count, and returns the developer
	// as stored after it.
	RecordLoginFailure(ctx context.Context, portalID, id string, now time.Time, p LockoutPolicy) (Developer, error)
	// ClearLoginFailures resets the failure count and lock after a
	// successful login, touching nothing else.
	ClearLoginFailures(ctx context.Context, portalID, id string) error
	DeleteDeveloper(ctx context.Context, portalID, id string) error // also its tokens

	CreateDeveloperToken(ctx context.Context, t DeveloperToken) error
	GetDeveloperToken(ctx context.Context, hash []byte) (DeveloperToken, error)
	// ConsumeDeveloperToken deletes and returns a token in one step, so a
	// one-time token works once only.
	ConsumeDeveloperToken(ctx context.Context, hash []byte) (DeveloperToken, error)
	DeleteDeveloperTokens(ctx context.Context, developerID, purpose string) error
	// DeleteDeveloperSession deletes the tokens of one session
	// (DeveloperToken.SessionID, random and unique to a session; an empty
	// one matches nothing) and says how many.
	DeleteDeveloperSession(ctx context.Context, sessionID string) (int, error)
	DeleteExpiredDeveloperTokens(ctx context.Context, now time.Time) (int, error)
}

// SigningKeys keeps the Ed25519 keys.
type SigningKeys interface {
	ListSigningKeys(ctx context.Context) ([]SigningKey, error) // oldest first
	// AddSigningKey stores a new active key and retires the previous active
	// one at the same instant, in one transaction; concurrent calls (two
	// replicas rotating) still leave exactly one active key.
	AddSigningKey(ctx context.Context, k SigningKey) error
	// DeleteSigningKeysRetiredBefore removes keys retired before t.
	DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) error
}

// Store is everything a backend provides.
type Store interface {
	EventLog
	Tenancy
	Portals
	CustomDomains
	Destinations
	Webhooks
	ReplayJobs
	Developers
	SigningKeys
	Coordination
	RateLimits
	MailOutbox
	MerkleLeaves
	PortalContent
	PortalAssets
	PortalAuth
	Teams
	Users
	UserTokens
	Overview
	// Ping checks the backend answers.
	Ping(ctx context.Context) error
	Close() error
}
