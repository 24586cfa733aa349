package store

import (
	"context"
	"time"
)

// AttemptHistory is how long the attempts listed by ListAttempts are kept.
const AttemptHistory = 24 * time.Hour

// WebhookSummary is one webhook with its delivery state and how far its
// stream has grown: the console's overview row.
type WebhookSummary struct {
	Webhook Webhook
	State   WebhookState
	LastSeq int64 // the stream's last sequence number; LastSeq - State.Cursor entries wait
	// PortalName and DestinationName name the portal (empty for the org
	// webhook) and the destination (empty when none is set).
	PortalName      string
	DestinationName string
}

// Overview reads delivery health for the console.
type Overview interface {
	// ListWebhookSummaries lists every webhook of the org (the org webhook
	// first, then the portals' by stream) with its state, failed ranges and
	// stream end, in a fixed number of queries whatever their count.
	ListWebhookSummaries(ctx context.Context, orgID string) ([]WebhookSummary, error)
	// ListAttempts lists the stream's attempts at or after since, newest
	// first, at most limit. RecordAttempt keeps AttemptHistory of them.
	ListAttempts(ctx context.Context, stream StreamID, since time.Time, limit int) ([]Attempt, error)
	// ListPastReplayJobs lists the stream's jobs that a newer one replaced
	// (PutReplayJob keeps the last PastReplayJobs), newest first, of the
	// org only.
	ListPastReplayJobs(ctx context.Context, orgID string, stream StreamID) ([]ReplayJob, error)
}

// PastReplayJobs is how many replaced jobs of a stream are kept.
const PastReplayJobs = 50
