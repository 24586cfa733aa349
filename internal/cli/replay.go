package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// replayJob is the replay job as the API shows it.
type replayJob struct {
	StartAt   string `json:"start_at"`
	EndAt     string `json:"end_at"`
	Status    string `json:"status"`
	UpdatedAt string `json:"updated_at"`
	Progress  *struct {
		Sent  int64 `json:"sent"`
		Total int64 `json:"total"`
	} `json:"progress,omitempty"`
	Error string `json:"error,omitempty"`
}

// runReplay starts a replay job through the API and follows it until it
// completes (exit 0) or fails (exit 1).
func runReplay(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet("replay", env.Stderr)
	server := fs.String("server", "http://127.0.0.1:8080", "base URL of the sigtrail management API")
	token := fs.String("token", "", "API token with the audit-log-admin or org-admin role")
	portal := fs.String("portal", "", "replay this Dev Portal's log instead of the org log")
	since := durationFlag(fs, "since", 0, "replay the last DURATION (for example 90m, 36h or 7d)")
	from := fs.String("from", "", "start of the window, RFC 3339")
	to := fs.String("to", "", "end of the window, RFC 3339")
	poll := fs.Duration("poll", time.Second, "how often to check progress")
	patience := fs.Duration("unreachable-for", 2*time.Minute,
		"keep following while the server is unreachable or restarting for up to this long (the job resumes on restart)")
	if err := parseFlags(fs, args, env.Getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(env.Stderr, "usage: sigtrail replay --server URL --token T [--portal ID] (--since 7d | --from T --to T)")
			fs.SetOutput(env.Stderr)
			fs.PrintDefaults()
			return err
		}
		fmt.Fprintf(env.Stderr, "sigtrail replay: %v (run 'sigtrail replay -h' for the flags)\n", err)
		return errUsage
	}
	start, end, err := replayWindow(*since, *from, *to, time.Now())
	if err != nil {
		fmt.Fprintf(env.Stderr, "sigtrail replay: %v\n", err)
		return errUsage
	}
	if *token == "" {
		fmt.Fprintln(env.Stderr, "sigtrail replay: --token (or SIGTRAIL_TOKEN) is required")
		return errUsage
	}
	if *poll <= 0 {
		*poll = time.Second
	}
	c := &replayClient{base: strings.TrimRight(*server, "/"), token: *token, http: &http.Client{Timeout: 30 * time.Second}}
	path := "/v3/audit-log-replay-job"
	if *portal != "" {
		path = "/v3/portals/" + url.PathEscape(*portal) + "/audit-log-replay-job"
	}

	// Sub-second precision: "the last hour" must include what happened
	// in the current second.
	body, _ := json.Marshal(map[string]string{
		"start_at": start.UTC().Format(time.RFC3339Nano),
		"end_at":   end.UTC().Format(time.RFC3339Nano),
	})
	var job replayJob
	if err := c.do(ctx, http.MethodPut, path, body, http.StatusAccepted, &job); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "replay of %s .. %s %s\n", job.StartAt, job.EndAt, job.Status)
	last := job.Status
	// Polls in a row that may fail before giving up: counted in polls, not
	// measured on a clock, so a stalled machine does not cut it short.
	maxMisses := max(int(*patience / *poll), 1)
	misses := 0
	for {
		line := progressLine(job)
		if line != last {
			fmt.Fprintln(env.Stdout, line)
			last = line
		}
		switch job.Status {
		case "completed":
			return nil
		case "failed":
			if job.Error != "" {
				fmt.Fprintf(env.Stderr, "sigtrail replay: failed: %s\n", job.Error)
			}
			return errFailed
		}
		t := time.NewTimer(*poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		err := c.do(ctx, http.MethodGet, path, nil, http.StatusOK, &job)
		switch {
		case err == nil:
			if misses > 0 {
				fmt.Fprintln(env.Stderr, "sigtrail replay: the server answers again")
			}
			misses = 0
		case transient(ctx, err) && misses < maxMisses:
			// A restart (say, a deploy) resumes the job: keep following.
			if misses == 0 {
				fmt.Fprintf(env.Stderr, "sigtrail replay: %v; still following\n", err)
			}
			misses++
		default:
			return err
		}
	}
}

// transient reports whether err may pass by itself: no answer at all, or a
// gateway or the server saying it is unavailable for now.
func transient(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var ae *apiError
	if errors.As(err, &ae) {
		switch ae.status {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	return true // the request got no answer (refused, reset, timed out)
}

// replayWindow turns --since or --from/--to into the window to replay.
func replayWindow(since time.Duration, from, to string, now time.Time) (time.Time, time.Time, error) {
	switch {
	case since != 0 && (from != "" || to != ""):
		return time.Time{}, time.Time{}, fmt.Errorf("give either --since or --from/--to, not both")
	case since < 0:
		return time.Time{}, time.Time{}, fmt.Errorf("--since must be positive")
	case since > 0:
		return now.Add(-since), now, nil
	case from == "" || to == "":
		return time.Time{}, time.Time{}, fmt.Errorf("give --since DURATION, or both --from and --to")
	}
	start, err := time.Parse(time.RFC3339, from)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("--from: not an RFC 3339 time: %q", from)
	}
	end, err := time.Parse(time.RFC3339, to)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("--to: not an RFC 3339 time: %q", to)
	}
	if !start.Before(end) {
		return time.Time{}, time.Time{}, fmt.Errorf("--from must be before --to")
	}
	return start, end, nil
}

func progressLine(j replayJob) string {
	if j.Progress == nil || (j.Status != "running" && j.Status != "completed" && j.Status != "failed") {
		return j.Status
	}
	return fmt.Sprintf("%s: %d of %d entries sent", j.Status, j.Progress.Sent, j.Progress.Total)
}

// replayClient calls the management API with a bearer token.
type replayClient struct {
	base  string
	token string
	http  *http.Client
}

// do sends one request and decodes the answer into out, or turns a
// problem+json answer into an error that names what was wrong.
func (c *replayClient) do(ctx context.Context, method, path string, body []byte, want int, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return replayProblem(resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: unreadable answer: %v", method, path, err)
	}
	return nil
}

// apiError is an answer other than the one expected.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

// replayProblem renders a problem+json answer as one line.
func replayProblem(status int, raw []byte) error {
	var p struct {
		Detail string `json:"detail"`
		Params []struct {
			Field  string `json:"field"`
			Reason string `json:"reason"`
		} `json:"invalid_parameters"`
	}
	if json.Unmarshal(raw, &p) != nil || p.Detail == "" {
		return &apiError{status, fmt.Sprintf("server answered %d %s", status, http.StatusText(status))}
	}
	msg := fmt.Sprintf("server answered %d: %s", status, p.Detail)
	for _, ip := range p.Params {
		msg += fmt.Sprintf("; %s %s", ip.Field, ip.Reason)
	}
	return &apiError{status, msg}
}
