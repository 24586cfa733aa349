package delivery

import (
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

func TestRetryWait(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{Min: time.Second, Max: 30 * time.Second, MaxRetries: 4, Jitter: 0.2}
	tests := []struct {
		name       string
		rand       float64
		n          int
		retryAfter time.Duration
		want       time.Duration
	}{
		{"first retry, no jitter drawn", 0, 0, 0, time.Second},
		{"first retry, most jitter", 0.999999, 0, 0, 1199999800 * time.Nanosecond},
		{"fourth retry", 0.5, 3, 0, 8800 * time.Millisecond},
		{"doubling stops at the cap", 0.5, 10, 0, 30 * time.Second},
		{"jitter never passes the cap", 0.9, 5, 0, 30 * time.Second},
		{"Retry-After replaces the backoff", 0.5, 0, 12 * time.Second, 12 * time.Second},
		{"Retry-After within the cap", 0.5, 0, time.Hour, 30 * time.Second},
		{"Retry-After not below the min", 0.5, 2, 10 * time.Millisecond, time.Second},
	}
	for _, tc := range tests {
		p.Rand = func() float64 { return tc.rand }
		if got := p.wait(tc.n, tc.retryAfter); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"5", 5 * time.Second},
		{" 5 ", 5 * time.Second},
		{"0", 0},
		{"-3", 0},
		{"soon", 0},
		{"999999999999", 24 * time.Hour},
		{"Wed, 25 Nov 2026 12:00:09 GMT", 9 * time.Second},
		{"Wed, 25 Nov 2026 11:59:00 GMT", 0},
	}
	for _, tc := range tests {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.in, got, tc.want)
		}
	}
}

// Retry-After comes from the destination: any value yields a wait within
// the policy's bounds.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"5", "Wed, 25 Nov 2026 12:00:09 GMT", "-1", "1e9", "99999999999999999999"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	p := RetryPolicy{Min: time.Second, Max: 30 * time.Second, Jitter: 0.2, Rand: func() float64 { return 0.5 }}
	f.Fuzz(func(t *testing.T, v string) {
		ra := parseRetryAfter(v, now)
		if ra < 0 {
			t.Fatalf("negative Retry-After %v", ra)
		}
		if w := p.wait(1, ra); w < p.Min || w > p.Max {
			t.Fatalf("wait %v outside [%v, %v]", w, p.Min, p.Max)
		}
	})
}

// fitting never cuts below what the exact cap would keep, and stops
// rendering far past it.
func TestFitting(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("u", 300_000)
	es := make([]store.StoredEntry, 10)
	for i := range es {
		es[i].Entry = audit.Entry{Kind: audit.KindAuthentication, UserAgent: huge, Name: string(audit.OutcomeSuccess)}
	}
	if got := fitting(es, 1<<20); got != 3 { // the 4th line alone would pass 1 MiB
		t.Fatalf("fitting %d, want 3", got)
	}
	if got := fitting(es[:1], 10); got != 1 {
		t.Fatalf("a single entry must always fit, got %d", got)
	}
	small := make([]store.StoredEntry, 1000)
	if got := fitting(small, 1<<20); got != 1000 {
		t.Fatalf("small entries cut at %d", got)
	}
}
