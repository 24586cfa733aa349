package console

import (
	"net/http"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

type replayJob struct {
	StartAt   string `json:"start_at"`
	EndAt     string `json:"end_at"`
	Status    string `json:"status"`
	UpdatedAt string `json:"updated_at"`
	Progress  *struct {
		Sent  int64 `json:"sent"`
		Total int64 `json:"total"`
	} `json:"progress"`
	Error string `json:"error"`
}

type replayData struct {
	Job                  replayJob
	Sent, Total, Percent int64
	Past                 []pastJob
}

type pastJob struct {
	StartAt, EndAt, Status, UpdatedAt, Error string
	Sent, Total                              int64
}

func (h *Handler) pageReplay(w http.ResponseWriter, r *http.Request, u store.User) {
	d := h.newPage(w, r, u, "Replay")
	now := h.clk.Now().UTC()
	d.Fields["start_at"] = now.Add(-time.Hour).Format("2006-01-02T15:04:05")
	d.Fields["end_at"] = now.Format("2006-01-02T15:04:05")
	if r.URL.Query().Get("m") == "started" {
		d.Notice = "The replay was started."
	}
	h.renderReplay(w, r, u, d, http.StatusOK)
}

func (h *Handler) renderReplay(w http.ResponseWriter, r *http.Request, u store.User, d pageData, status int) {
	var job replayJob
	rd := replayData{}
	if err := h.call(r, u, http.MethodGet, "/v3/audit-log-replay-job", nil, &job); err != nil {
		if d.Error == "" {
			status = h.showError(r, &d, err)
		}
	} else {
		// The API authorised reading the org's replay job; the jobs it
		// replaced come from the store.
		past, err := h.st.ListPastReplayJobs(r.Context(), u.OrgID, store.StreamID(u.OrgID))
		if err != nil && d.Error == "" {
			status = h.showError(r, &d, err)
		}
		for _, p := range past {
			rd.Past = append(rd.Past, pastJob{StartAt: p.StartAt.UTC().Format(time.RFC3339), EndAt: p.EndAt.UTC().Format(time.RFC3339),
				Status: p.Status, UpdatedAt: p.UpdatedAt.UTC().Format(time.RFC3339), Error: p.Error, Sent: p.Sent, Total: p.Total})
		}
	}
	rd.Job = job
	if job.Progress != nil {
		rd.Sent, rd.Total = job.Progress.Sent, job.Progress.Total
	}
	rd.Percent = replayPercent(job.Status, rd.Sent, rd.Total)
	switch job.Status {
	case store.JobAccepted, store.JobPending, store.JobRunning:
		d.Refresh = 2 // watch it live
	}
	d.Data = rd
	h.render(w, r, status, "replay", d)
}

func (h *Handler) pageReplayStart(w http.ResponseWriter, r *http.Request, u store.User) {
	d := h.newPage(w, r, u, "Replay")
	body := map[string]any{}
	var params []apperr.InvalidParam
	for _, k := range []string{"start_at", "end_at"} {
		d.Fields[k] = r.PostForm.Get(k)
		t, err := parseLocal(d.Fields[k])
		if err != nil {
			params = append(params, apperr.InvalidParam{Field: k, Reason: "must be a date and time such as 2026-07-21T09:30"})
			continue
		}
		body[k] = t.Format(time.RFC3339)
	}
	var err error
	if len(params) > 0 {
		err = &apperr.Error{Code: apperr.Invalid, Message: "Invalid window", Params: params}
	} else {
		err = h.call(r, u, http.MethodPut, "/v3/audit-log-replay-job", body, nil)
	}
	if err != nil {
		status := h.showError(r, &d, err)
		h.renderReplay(w, r, u, d, status)
		return
	}
	http.Redirect(w, r, "/replay?m=started", http.StatusSeeOther)
}

// replayPercent is the progress shown for a replay job. Only a completed
// job shows 100 %: a running job that has sent every entry has still to
// record that it finished, and a reader (or a script) takes 100 % as done.
func replayPercent(status string, sent, total int64) int64 {
	switch {
	case status == store.JobCompleted:
		return 100
	case total <= 0 || sent <= 0:
		return 0
	default:
		return min(99, sent*100/total)
	}
}
