package delivery

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// wait returns how long to wait before retry n (0 for the first retry):
// exponential from Min, jittered upwards, capped at Max. A Retry-After the
// destination asked for replaces the computed wait, kept within [Min, Max].
func (p RetryPolicy) wait(n int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(max(retryAfter, p.Min), p.Max)
	}
	d := p.Min
	for i := 0; i < n && d < p.Max; i++ {
		d *= 2
	}
	d += time.Duration(float64(d) * p.Jitter * p.Rand())
	return min(max(d, p.Min), p.Max)
}

// retryable reports whether an answer with this status is worth another
// attempt: 429 and 5xx; other statuses mean the configuration is wrong.
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// parseRetryAfter reads a Retry-After header, delay-seconds or HTTP-date.
// It returns 0 when the header is absent or unusable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
