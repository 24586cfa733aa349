package customdomain

import (
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

func TestPolicyResult(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p := DefaultPolicy
	for _, tc := range []struct {
		name         string
		verified     bool
		failures     int
		f            Finding
		wantVerified bool
		wantFailures int
		wantNext     time.Duration
	}{
		{"pending, found", false, 4, Found, true, 0, time.Hour},
		{"pending, first failure", false, 0, NotFound, false, 1, time.Minute},
		{"pending, second failure", false, 1, NotFound, false, 2, 2 * time.Minute},
		{"pending, sixth failure", false, 5, NotFound, false, 6, 32 * time.Minute},
		{"pending, backoff capped", false, 6, NotFound, false, 7, time.Hour},
		{"pending, long failing", false, 500, NotFound, false, 501, time.Hour},
		{"pending, first lookup error", false, 0, Unknown, false, 1, time.Minute},
		{"pending, lookup errors back off", false, 5, Unknown, false, 6, 32 * time.Minute},
		{"pending, lookup errors capped", false, 500, Unknown, false, 501, time.Hour},
		{"verified, found", true, 0, Found, true, 0, time.Hour},
		{"verified, found after failures", true, 2, Found, true, 0, time.Hour},
		{"verified, one failure keeps it", true, 0, NotFound, true, 1, time.Minute},
		{"verified, two failures keep it", true, 1, NotFound, true, 2, 2 * time.Minute},
		{"verified, third failure loses it, backoff anew", true, 2, NotFound, false, 0, time.Minute},
		{"verified, lookup error counts nothing", true, 2, Unknown, true, 2, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := store.CustomDomainCheck{PortalID: "p", Hostname: "h", Token: 7, Verified: tc.verified, Failures: tc.failures}
			r := p.Result(c, tc.f, now)
			if r.PortalID != "p" || r.Hostname != "h" || r.Token != 7 || !r.Now.Equal(now) {
				t.Errorf("identity %+v", r)
			}
			if r.Verified != tc.wantVerified || r.Failures != tc.wantFailures || r.Next.Sub(now) != tc.wantNext {
				t.Errorf("got verified=%v failures=%d next=+%v, want %v %d +%v", r.Verified, r.Failures, r.Next.Sub(now),
					tc.wantVerified, tc.wantFailures, tc.wantNext)
			}
			if r.Retry.Before(r.Next) && tc.f != Found {
				t.Errorf("retry %v before next %v", r.Retry, r.Next)
			}
		})
	}
}

func TestParseServers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want []string
		bad  bool
	}{
		{"", nil, false},
		{"10.0.0.2", []string{"10.0.0.2:53"}, false},
		{" 10.0.0.2:5353 , [2001:db8::1]:53,2001:db8::2", []string{"10.0.0.2:5353", "[2001:db8::1]:53", "[2001:db8::2]:53"}, false},
		{"dns.example.com", nil, true},
		{"10.0.0.2:0", nil, true},
		{"10.0.0.2:x", nil, true},
	} {
		got, err := ParseServers(tc.in)
		if (err != nil) != tc.bad || len(got) != len(tc.want) {
			t.Errorf("ParseServers(%q) = %v, %v", tc.in, got, err)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("ParseServers(%q) = %v, want %v", tc.in, got, tc.want)
			}
		}
	}
}
