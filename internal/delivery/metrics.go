package delivery

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Results of one attempt, the label of attempts_total.
const (
	resultOK        = "ok"
	resultRetryable = "retryable_status" // 429 and 5xx
	resultRejected  = "rejected_status"  // any other non-2xx: not retried
	resultError     = "connection_error" // no HTTP answer: refused, reset, timeout
)

type metrics struct {
	attempts     *prometheus.CounterVec // by result
	batches      *prometheus.CounterVec // delivered | failed
	entries      *prometheus.CounterVec // delivered | failed
	retries      prometheus.Counter
	lost         prometheus.Counter
	batchLines   prometheus.Histogram
	batchBytes   prometheus.Histogram // uncompressed
	sentBytes    prometheus.Counter   // gzipped, on the wire
	latency      prometheus.Histogram // entry rt to 2xx
	lag          *prometheus.Desc
	failedRanges *prometheus.Desc
}

func newMetrics() *metrics {
	return &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sigtrail_delivery_attempts_total",
			Help: "Webhook POST attempts by result: ok, retryable_status, rejected_status, connection_error.",
		}, []string{"result"}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sigtrail_delivery_batches_total",
			Help: "Batches by final result: delivered (2xx) or failed (retries exhausted or rejected).",
		}, []string{"result"}),
		entries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sigtrail_delivery_entries_total",
			Help: "Entries by final result of their batch: delivered or failed.",
		}, []string{"result"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sigtrail_delivery_retries_total",
			Help: "Attempts that were retries of a batch.",
		}),
		lost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sigtrail_delivery_lost_entries_total",
			Help: "Entries that retention deleted before they were delivered (see the webhook status for which webhook).",
		}),
		batchLines: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sigtrail_delivery_batch_lines",
			Help:    "Lines per webhook request.",
			Buckets: []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500},
		}),
		batchBytes: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sigtrail_delivery_batch_bytes",
			Help:    "Uncompressed bytes per webhook request.",
			Buckets: prometheus.ExponentialBuckets(256, 4, 8),
		}),
		sentBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sigtrail_delivery_sent_bytes_total",
			Help: "Gzipped request body bytes sent, retries included.",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sigtrail_delivery_latency_seconds",
			Help:    "From an entry's rt to the 2xx answer that delivered it.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}),
		lag: prometheus.NewDesc("sigtrail_delivery_lag_entries",
			"Entries of the webhook's stream after its cursor.", []string{"stream"}, nil),
		failedRanges: prometheus.NewDesc("sigtrail_delivery_failed_ranges",
			"Failed sequence ranges waiting to be sent again.", []string{"stream"}, nil),
	}
}

func (m *metrics) register(r prometheus.Registerer, lag prometheus.Collector) error {
	if r == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{m.attempts, m.batches, m.entries, m.retries, m.lost,
		m.batchLines, m.batchBytes, m.sentBytes, m.latency, lag} {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// lagCollector reads every dispatcher's head and cursor at scrape time, so
// the hot path of Record updates no metric.
type lagCollector struct{ m *Manager }

func (c lagCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.m.metrics.lag
	ch <- c.m.metrics.failedRanges
}

func (c lagCollector) Collect(ch chan<- prometheus.Metric) {
	for _, d := range c.m.dispatchers() {
		lag, failed := d.progress()
		ch <- prometheus.MustNewConstMetric(c.m.metrics.lag, prometheus.GaugeValue, float64(lag), string(d.stream))
		ch <- prometheus.MustNewConstMetric(c.m.metrics.failedRanges, prometheus.GaugeValue, float64(failed), string(d.stream))
	}
}
