package delivery

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestNewValidates(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	tests := []struct {
		name string
		cfg  Config
		deps Deps
	}{
		{"no store", Config{}, Deps{Signer: testSigner()}},
		{"no signer", Config{}, Deps{Store: st}},
		{"negative batch", Config{MaxBatchLines: -1}, Deps{Store: st, Signer: testSigner()}},
		{"max below min", Config{Retry: RetryPolicy{Min: time.Minute, Max: time.Second}}, Deps{Store: st, Signer: testSigner()}},
		{"negative timeout", Config{RequestTimeout: -time.Second}, Deps{Store: st, Signer: testSigner()}},
	}
	for _, tc := range tests {
		if _, err := New(tc.cfg, tc.deps); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	// The same metrics cannot be registered twice on one registry.
	reg := prometheus.NewRegistry()
	if _, err := New(Config{}, Deps{Store: st, Signer: testSigner(), Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{}, Deps{Store: st, Signer: testSigner(), Registerer: reg}); err == nil {
		t.Error("registered twice")
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	var c Config
	if err := c.fill(); err != nil {
		t.Fatal(err)
	}
	r := c.Retry
	if c.MaxBatchLines != 1000 || c.MaxBatchBytes != 1<<20 || r.Min != time.Second || r.Max != 30*time.Second ||
		r.MaxRetries != 4 || r.Jitter != 0.2 || c.SignWorkers < 1 {
		t.Fatalf("defaults %+v", c)
	}
}

func TestRunTwice(t *testing.T) {
	t.Parallel()
	m := startManager(t, newStore(t), managerOpts{})
	if err := m.Run(t.Context()); err == nil {
		t.Fatal("a second Run started")
	}
}
