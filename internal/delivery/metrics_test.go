package delivery

import (
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// metric finds one metric of a family; label "" matches the first.
func metric(t testing.TB, reg *prometheus.Registry, name, label string) *dto.Metric {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.Metric {
			if label == "" {
				return m
			}
			for _, l := range m.Label {
				if l.GetValue() == label {
					return m
				}
			}
		}
	}
	return nil
}

func counterValue(t testing.TB, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	m := metric(t, reg, name, label)
	if m == nil {
		return 0
	}
	return m.GetCounter().GetValue()
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	dst := newRecorder()
	srv := httptest.NewServer(dst)
	defer srv.Close()
	h := addWebhook(t, st, srv.URL, audit.FormatCEF)
	reg := prometheus.NewRegistry()
	m := startManager(t, st, managerOpts{reg: reg})
	record(t, m, entries(h, 1, 3))
	dst.next(t)
	waitState(t, st, h, func(s store.WebhookState) bool { return s.Cursor == 3 })

	for _, c := range []struct {
		name, label string
		want        float64
	}{
		{"sigtrail_delivery_attempts_total", "ok", 1},
		{"sigtrail_delivery_batches_total", "delivered", 1},
		{"sigtrail_delivery_entries_total", "delivered", 3},
	} {
		if got := counterValue(t, reg, c.name, c.label); got != c.want {
			t.Errorf("%s{%s} = %v, want %v", c.name, c.label, got, c.want)
		}
	}
	if got := metric(t, reg, "sigtrail_delivery_sent_bytes_total", "").GetCounter().GetValue(); got <= 0 {
		t.Errorf("sent bytes %v", got)
	}
	for name, want := range map[string]uint64{
		"sigtrail_delivery_batch_lines": 1, "sigtrail_delivery_batch_bytes": 1, "sigtrail_delivery_latency_seconds": 3,
	} {
		if got := metric(t, reg, name, "").GetHistogram().GetSampleCount(); got != want {
			t.Errorf("%s count %d, want %d", name, got, want)
		}
	}
	if got := metric(t, reg, "sigtrail_delivery_batch_lines", "").GetHistogram().GetSampleSum(); got != 3 {
		t.Errorf("batch lines sum %v", got)
	}
	if lag := metric(t, reg, "sigtrail_delivery_lag_entries", string(h.stream)); lag == nil || lag.GetGauge().GetValue() != 0 {
		t.Errorf("lag %v, want 0", lag)
	}
}
