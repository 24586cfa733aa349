package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// windowGrace is how far a requested time may stray outside the retention
// window (before it) or past now (after it) and still be accepted: enough
// for a client that computed "7 days ago" a moment before asking, or whose
// clock runs slightly ahead.
const windowGrace = time.Minute

// replayRoutes serves the replay jobs of the org log (v2 and v3) and of a
// portal's log.
func (s *server) replayRoutes() []route {
	org := func(c *call) (store.StreamID, string, error) { return c.orgStream(), "", nil }
	portal := func(c *call) (store.StreamID, string, error) {
		p, err := s.portal(c)
		if err != nil {
			return "", "", err
		}
		return store.StreamID(p.ID), p.ID, nil
	}
	const portalPath = "/v3/portals/{portalId}/audit-log-replay-job"
	return []route{
		{method: http.MethodPut, path: "/v2/audit-log-replay-job", resource: resReplayJobs, action: audit.ActionEdit, roles: auditWriters(), handle: s.putReplayJob(org)},
		{method: http.MethodGet, path: "/v2/audit-log-replay-job", resource: resReplayJobs, action: audit.ActionRetrieve, roles: auditReaders(), handle: s.getReplayJob(org)},
		{method: http.MethodPut, path: "/v3/audit-log-replay-job", resource: resReplayJobs, action: audit.ActionEdit, roles: auditWriters(), handle: s.putReplayJob(org)},
		{method: http.MethodGet, path: "/v3/audit-log-replay-job", resource: resReplayJobs, action: audit.ActionRetrieve, roles: auditReaders(), handle: s.getReplayJob(org)},
		{method: http.MethodPut, path: portalPath, resource: resReplayJobs, action: audit.ActionEdit, roles: portalAuditWriters(), handle: s.putReplayJob(portal)},
		{method: http.MethodGet, path: portalPath, resource: resReplayJobs, action: audit.ActionRetrieve, roles: portalAuditReaders(), handle: s.getReplayJob(portal)},
	}
}

// replayJobJSON is a replay job as Konnect shows it, plus its progress
// (once it runs) and the reason it failed.
type replayJobJSON struct {
	// Times are omitted, not the zero time, for a job that never was
	// (Kong's schema requires none of them).
	StartAt   *time.Time      `json:"start_at,omitempty"`
	EndAt     *time.Time      `json:"end_at,omitempty"`
	Status    string          `json:"status"`
	UpdatedAt *time.Time      `json:"updated_at,omitempty"`
	Progress  *replayProgress `json:"progress,omitempty"`
	Error     string          `json:"error,omitempty"`
}

// replayProgress counts the entries sent of those in the window when the
// job started running.
type replayProgress struct {
	Sent  int64 `json:"sent"`
	Total int64 `json:"total"`
}

func toReplayJobJSON(j store.ReplayJob) replayJobJSON {
	out := replayJobJSON{StartAt: timeOrNil(j.StartAt), EndAt: timeOrNil(j.EndAt), Status: j.Status, UpdatedAt: timeOrNil(j.UpdatedAt)}
	switch j.Status {
	case store.JobRunning, store.JobCompleted, store.JobFailed:
		out.Progress = &replayProgress{Sent: j.Sent, Total: j.Total}
	}
	if j.Status == store.JobFailed {
		out.Error = j.Error
	}
	return out
}

// unconfiguredJob is what GET shows before any job: its status, and no
// times (Konnect shows the zero time, which clients take for a real one).
var unconfiguredJob = replayJobJSON{Status: store.JobUnconfigured}

type replayJobBody struct {
	StartAt *string `json:"start_at"`
	EndAt   *string `json:"end_at"`
}

// putReplayJob stores a new job as accepted and wakes the runner. A job
// still accepted, pending or running is a 409.
func (s *server) putReplayJob(of streamOf) func(c *call) error {
	return func(c *call) error {
		stream, portalID, err := of(c)
		if err != nil {
			return err
		}
		var b replayJobBody
		if err := c.decode(&b); err != nil {
			return err
		}
		start, end, err := s.replayWindow(b, c.now())
		if err != nil {
			return err
		}
		now := c.now()
		j := store.ReplayJob{Stream: stream, OrgID: c.org, PortalID: portalID, StartAt: start, EndAt: end,
			Status: store.JobAccepted, CreatedAt: now, UpdatedAt: now}
		if err := s.st.PutReplayJob(c.ctx(), j); err != nil {
			if apperr.Is(err, apperr.Conflict) {
				return apperr.New(apperr.Conflict, "A replay job is currently running")
			}
			return err
		}
		if s.replays != nil {
			s.replays.JobChanged(stream)
		}
		return c.json(http.StatusAccepted, toReplayJobJSON(j))
	}
}

// getReplayJob answers the stream's job, unconfigured when there is none.
func (s *server) getReplayJob(of streamOf) func(c *call) error {
	return func(c *call) error {
		stream, _, err := of(c)
		if err != nil {
			return err
		}
		j, err := s.st.GetReplayJob(c.ctx(), stream)
		if apperr.Is(err, apperr.NotFound) {
			return c.json(http.StatusOK, unconfiguredJob)
		}
		if err != nil {
			return err
		}
		return c.json(http.StatusOK, toReplayJobJSON(j))
	}
}

// replayWindow validates start_at and end_at: RFC 3339, start before end,
// both within the retention window and not in the future. Every wrong
// field is named.
func (s *server) replayWindow(b replayJobBody, now time.Time) (time.Time, time.Time, error) {
	var params []apperr.InvalidParam
	bad := func(field, rule, reason string) {
		params = append(params, apperr.InvalidParam{Field: field, Rule: rule, Reason: reason, Source: "body"})
	}
	parse := func(field string, v *string) time.Time {
		if v == nil || *v == "" {
			bad(field, "required", "is required")
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339, *v)
		if err != nil {
			bad(field, "is_date_time", "must be an RFC 3339 date-time, for example 2017-07-21T17:32:28Z")
			return time.Time{}
		}
		return t.UTC()
	}
	start, end := parse("start_at", b.StartAt), parse("end_at", b.EndAt)
	oldest := now.Add(-s.cfg.Retention)
	within := "must be within the retention period (the last " + humanDuration(s.cfg.Retention) + ")"
	if !start.IsZero() {
		switch {
		case start.Before(oldest.Add(-windowGrace)):
			bad("start_at", "invalid", within)
		case start.After(now.Add(windowGrace)):
			bad("start_at", "invalid", "must not be in the future")
		}
	}
	if !end.IsZero() {
		switch {
		case end.Before(oldest):
			bad("end_at", "invalid", within)
		case end.After(now.Add(windowGrace)):
			bad("end_at", "invalid", "must not be in the future")
		}
	}
	if len(params) == 0 && !start.Before(end) {
		bad("end_at", "invalid", "must be after start_at")
	}
	if len(params) > 0 {
		return time.Time{}, time.Time{}, &apperr.Error{Code: apperr.Invalid, Message: "Invalid replay window", Params: params}
	}
	return start, end, nil
}

// humanDuration says a retention period the way people do: "7 days",
// "36 hours".
func humanDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0 && d >= 24*time.Hour:
		n := int(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return strconv.Itoa(n) + " days"
	case d%time.Hour == 0 && d >= time.Hour:
		n := int(d / time.Hour)
		if n == 1 {
			return "1 hour"
		}
		return strconv.Itoa(n) + " hours"
	}
	return d.String()
}

// timeOrNil is t in UTC, or nil for the zero time.
func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
