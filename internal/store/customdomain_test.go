package store

import (
	"testing"
	"time"
)

func TestCustomDomainResultOutcome(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	next, retry := now.Add(time.Hour), now.Add(time.Minute)
	for _, tc := range []struct {
		name          string
		verify        bool
		was, held     bool
		want          CustomDomainChange
		wantNextRetry bool // due at Retry rather than Next
	}{
		{"pending verified", true, false, false, CustomDomainChange{Verified: true}, false},
		{"pending verified, held by another", true, false, true, CustomDomainChange{Contested: true}, true},
		{"verified stays", true, true, false, CustomDomainChange{Was: true, Verified: true}, false},
		{"verified lost", false, true, false, CustomDomainChange{Was: true}, false},
		{"pending stays", false, false, true, CustomDomainChange{}, false},
	} {
		r := CustomDomainResult{Verified: tc.verify, Next: next, Retry: retry}
		ch, due := r.Outcome(tc.was, tc.held)
		if ch != tc.want || due.Equal(retry) != tc.wantNextRetry {
			t.Errorf("%s: %+v due %v, want %+v (at retry: %v)", tc.name, ch, due, tc.want, tc.wantNextRetry)
		}
	}
}
