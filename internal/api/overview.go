package api

import (
	"net/http"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// overviewRoutes is sigtrail's own listing of every webhook of the org
// with its delivery health, which the console's overview shows.
func (s *server) overviewRoutes() []route {
	return []route{
		{method: http.MethodGet, path: "/v1/webhooks", resource: resWebhooks, action: audit.ActionList, roles: auditReaders(), handle: s.listWebhookSummaries},
	}
}

type seqRangeJSON struct {
	From int64 `json:"from"`
	To   int64 `json:"to"`
}

type webhookSummaryJSON struct {
	Stream          string         `json:"stream"`
	PortalID        string         `json:"portal_id,omitempty"`
	PortalName      string         `json:"portal_name,omitempty"`
	DestinationID   string         `json:"audit_log_destination_id,omitempty"`
	DestinationName string         `json:"audit_log_destination_name,omitempty"`
	Enabled         bool           `json:"enabled"`
	Status          string         `json:"webhook_status"`
	LastAttemptAt   *time.Time     `json:"last_attempt_at,omitempty"`
	LastCode        int            `json:"last_response_code,omitempty"`
	EntriesWaiting  int64          `json:"entries_waiting"`
	FailedRanges    []seqRangeJSON `json:"failed_ranges"`
	LostEntries     int64          `json:"lost_entries"`
}

// listWebhookSummaries answers every webhook of the org: the org webhook
// first, then the portals'. A webhook with no destination is unconfigured,
// as the status endpoints say.
func (s *server) listWebhookSummaries(c *call) error {
	rows, err := s.st.ListWebhookSummaries(c.ctx(), c.org)
	if err != nil {
		return err
	}
	data := make([]webhookSummaryJSON, 0, len(rows))
	for _, x := range rows {
		j := webhookSummaryJSON{Stream: string(x.Webhook.Stream), PortalID: x.Webhook.PortalID, PortalName: x.PortalName,
			DestinationID: x.Webhook.DestinationID, DestinationName: x.DestinationName, Enabled: x.Webhook.Enabled,
			Status: x.State.Status, LastCode: x.State.LastResponseCode, EntriesWaiting: max(0, x.LastSeq-x.State.Cursor),
			FailedRanges: make([]seqRangeJSON, 0, len(x.State.FailedRanges)), LostEntries: x.State.LostEntries}
		if x.Webhook.DestinationID == "" || j.Status == "" {
			j.Status = store.StatusUnconfigured
		}
		if !x.State.LastAttemptAt.IsZero() {
			t := x.State.LastAttemptAt.UTC()
			j.LastAttemptAt = &t
		}
		for _, r := range x.State.FailedRanges {
			j.FailedRanges = append(j.FailedRanges, seqRangeJSON{From: r.From, To: r.To})
		}
		data = append(data, j)
	}
	return c.json(http.StatusOK, struct {
		Data []webhookSummaryJSON `json:"data"`
	}{data})
}
