package console

import (
	"testing"

	"github.com/sigtrail/sigtrail/internal/store"
)

func TestReplayPercentShowsDoneOnlyWhenCompleted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status      string
		sent, total int64
		want        int64
	}{
		{store.JobAccepted, 0, 0, 0},
		{store.JobRunning, 0, 200, 0},
		{store.JobRunning, 50, 200, 25},
		{store.JobRunning, 199, 200, 99},
		// Every entry sent, the job not yet marked completed.
		{store.JobRunning, 200, 200, 99},
		{store.JobRunning, 300, 200, 99},
		{store.JobCompleted, 200, 200, 100},
		// A window with nothing in it completes at 0 of 0.
		{store.JobCompleted, 0, 0, 100},
		{store.JobFailed, 120, 200, 60},
	} {
		if got := replayPercent(tc.status, tc.sent, tc.total); got != tc.want {
			t.Errorf("replayPercent(%q, %d, %d) = %d, want %d", tc.status, tc.sent, tc.total, got, tc.want)
		}
	}
}
