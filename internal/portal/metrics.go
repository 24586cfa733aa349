package portal

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the portal's Prometheus series.
type metrics struct {
	// rateLimited counts attempts the per-address limiter refused, by
	// action (auth: log-ins; register: sign-ups and password resets), so a
	// password spray shows even while it is throttled.
	rateLimited *prometheus.CounterVec
}

func newMetrics(r prometheus.Registerer) (*metrics, error) {
	m := &metrics{rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sigtrail_portal_rate_limited_total",
		Help: "Dev Portal attempts refused by the per-address rate limit, by action (auth, register).",
	}, []string{"action"})}
	if r == nil {
		return m, nil
	}
	if err := r.Register(m.rateLimited); err != nil {
		// A second portal handler on one registry (tests, a restart in
		// process) counts into the series already there.
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return nil, err
		}
		m.rateLimited = are.ExistingCollector.(*prometheus.CounterVec)
	}
	return m, nil
}
