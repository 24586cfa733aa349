package console

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

// overviewRefresh is how often the overview reloads itself, in seconds.
const overviewRefresh = 10

type webhookSummary struct {
	Stream          string     `json:"stream"`
	PortalID        string     `json:"portal_id"`
	PortalName      string     `json:"portal_name"`
	DestinationID   string     `json:"audit_log_destination_id"`
	DestinationName string     `json:"audit_log_destination_name"`
	Enabled         bool       `json:"enabled"`
	Status          string     `json:"webhook_status"`
	LastAttemptAt   *time.Time `json:"last_attempt_at"`
	LastCode        int        `json:"last_response_code"`
	EntriesWaiting  int64      `json:"entries_waiting"`
	FailedRanges    []struct {
		From int64 `json:"from"`
		To   int64 `json:"to"`
	} `json:"failed_ranges"`
	LostEntries int64 `json:"lost_entries"`
}

type overviewRow struct {
	Stream, Label, Status, Destination, LastAttempt string
	Enabled                                         bool
	Code                                            int
	Lag, Lost                                       int64
	Failed                                          []struct{ From, To int64 }
}

type overviewData struct {
	Rows  []overviewRow
	Chart template.HTML
}

func (h *Handler) pageOverview(w http.ResponseWriter, r *http.Request, u store.User) {
	d := h.newPage(w, r, u, "Overview")
	d.Refresh = overviewRefresh
	var got struct{ Data []webhookSummary }
	if err := h.call(r, u, http.MethodGet, "/v1/webhooks", nil, &got); err != nil {
		h.render(w, r, h.showError(r, &d, err), "overview", d)
		return
	}
	od := overviewData{Rows: make([]overviewRow, 0, len(got.Data)+1)}
	hasOrg := false
	for _, x := range got.Data {
		row := overviewRow{Stream: x.Stream, Label: "Org webhook", Status: x.Status, Destination: x.DestinationName,
			Enabled: x.Enabled, Code: x.LastCode, Lag: x.EntriesWaiting, Lost: x.LostEntries}
		if x.PortalID != "" {
			row.Label = "Portal " + x.PortalName
		} else {
			hasOrg = true
		}
		if x.LastAttemptAt != nil {
			row.LastAttempt = x.LastAttemptAt.UTC().Format(time.RFC3339)
		}
		for _, f := range x.FailedRanges {
			row.Failed = append(row.Failed, struct{ From, To int64 }{f.From, f.To})
		}
		od.Rows = append(od.Rows, row)
	}
	if !hasOrg {
		od.Rows = append([]overviewRow{{Stream: u.OrgID, Label: "Org webhook", Status: store.StatusUnconfigured}}, od.Rows...)
	}
	// The API call above authorised reading the webhooks; the chart is
	// their attempt history.
	now := h.clk.Now()
	attempts, err := h.st.ListAttempts(r.Context(), store.StreamID(u.OrgID), now.Add(-time.Hour), 100000)
	if err != nil {
		h.render(w, r, h.showError(r, &d, err), "overview", d)
		return
	}
	od.Chart = deliveriesChart(attempts, now)
	d.Data = od
	h.render(w, r, http.StatusOK, "overview", d)
}

// deliveriesChart draws successful and failed deliveries per minute over
// the hour before now as an inline SVG bar chart with a text alternative.
func deliveriesChart(attempts []store.Attempt, now time.Time) template.HTML {
	var ok, failed [60]int
	for _, a := range attempts {
		i := 59 - int(now.Sub(a.At)/time.Minute)
		if i < 0 || i > 59 {
			continue
		}
		if a.OK {
			ok[i]++
		} else {
			failed[i]++
		}
	}
	peak, total, totalFailed := 1, 0, 0
	for i := range ok {
		peak = max(peak, ok[i]+failed[i])
		total += ok[i]
		totalFailed += failed[i]
	}
	const width, height, bar = 600, 120, 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" id="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="chart-title chart-desc">`, width, height+20)
	fmt.Fprintf(&b, `<desc id="chart-desc">%d successful and %d failed deliveries in the last hour; at most %d in one minute.</desc>`, total, totalFailed, peak)
	fmt.Fprintf(&b, `<line x1="0" y1="%d" x2="%d" y2="%d" stroke="#b9c1ce"/>`, height, width, height)
	for i := range ok {
		x := i * bar
		hOK := ok[i] * height / peak
		hBad := failed[i] * height / peak
		if hOK > 0 {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#1e6b3a"/>`, x+1, height-hOK, bar-2, hOK)
		}
		if hBad > 0 {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#b3261e"/>`, x+1, height-hOK-hBad, bar-2, hBad)
		}
	}
	fmt.Fprintf(&b, `<text x="0" y="%d" font-size="11" fill="#5b6475">60 min ago</text>`, height+15)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="#5b6475" text-anchor="end">now</text>`, width, height+15)
	b.WriteString(`</svg>`)
	fmt.Fprintf(&b, `<p class="muted" id="chart-summary">%d delivered, %d failed in the last hour.</p>`, total, totalFailed)
	return template.HTML(b.String()) // built above from numbers only
}
