package delivery

import (
	"errors"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/tlog"
)

// Defaults of Config, the smallest of the common SIEM intake limits and the
// retry policy of Kong's how-to.
const (
	DefaultMaxBatchLines  = 1000
	DefaultMaxBatchBytes  = 1 << 20
	DefaultRequestTimeout = 10 * time.Second
	DefaultRetryMin       = time.Second
	DefaultRetryMax       = 30 * time.Second
	DefaultMaxRetries     = 4
	DefaultJitter         = 0.2
	// DefaultCoalesceWait bounds the adaptive coalescing wait (coalesce.go):
	// entries trickling in one at a time (one login, one API call) share a
	// request instead of one request each, for at most this much added
	// latency, counted from the first entry's arrival. 25 ms leaves half of
	// the 50 ms p99 goal for the rest of the path and makes batches of two
	// at 50 entries a second (their interval is 20 ms); at 1,000/s in
	// requests of 10 the adaptive wait falls to none.
	DefaultCoalesceWait = 25 * time.Millisecond
)

// RetryPolicy says how long to wait between attempts of one batch.
type RetryPolicy struct {
	Min        time.Duration // first wait, and the floor of every wait
	Max        time.Duration // cap of every wait, Retry-After included
	MaxRetries int           // retries after the first attempt
	// Jitter widens each wait by up to this fraction (0.2: up to +20%), so
	// many dispatchers that failed together do not retry together. Zero
	// means DefaultJitter; a Rand that returns 0 removes it.
	Jitter float64
	// Rand returns a number in [0,1); nil means math/rand/v2. Tests fix it
	// to check the exact schedule.
	Rand func() float64
}

// Config tunes the delivery.
type Config struct {
	MaxBatchLines  int           // lines per request (DefaultMaxBatchLines)
	MaxBatchBytes  int           // uncompressed bytes per request (DefaultMaxBatchBytes)
	RequestTimeout time.Duration // one attempt, connect to answer (DefaultRequestTimeout)
	// InsecureDestinations allows http:// endpoints and every address the
	// dial guard refuses (netguard): for local trials only.
	InsecureDestinations bool
	Retry                RetryPolicy
	// CoalesceWait bounds how long the first entry of a batch waits for
	// more before the batch goes, after a batch that was not full, unless
	// a full batch is waiting sooner; the wait itself adapts to the
	// batches' size (coalesce.go), and an entry after a quiet spell still
	// goes at once. Zero means DefaultCoalesceWait, negative turns it off.
	CoalesceWait time.Duration
	// CheckpointEvery is how often a destination with sequence numbers
	// gets a checkpoint line while its stream is active
	// (DefaultCheckpointEvery).
	CheckpointEvery time.Duration
	// SignWorkers is how many goroutines render and sign one large batch;
	// 0 means GOMAXPROCS.
	SignWorkers int
	// Clustered: several replicas share the database, and this Manager
	// delivers only the streams a coordinator gives it through Own, with
	// that lease's fence, until Disown. Otherwise it delivers every enabled
	// webhook, unfenced.
	Clustered bool
}

// Deps are what a Manager works with.
type Deps struct {
	Store      store.Store
	Signer     audit.Signer
	Renderer   audit.Renderer
	Clock      clock.Clock           // clock.Real{} when nil
	Logger     *slog.Logger          // discards when nil
	Registerer prometheus.Registerer // metrics are not exported when nil
	// OnLeaseLost, in clustered mode, hears of a stream whose dispatcher
	// stopped because a fenced write found the lease taken by another
	// replica (wire it to the coordinator's LeaseLost). It is called from
	// the dispatcher's goroutine, which Disown waits for: it must not block.
	OnLeaseLost func(store.StreamID)
	// Checkpoints signs the checkpoint lines of destinations with sequence
	// numbers; when nil, one over Store is made if Signer can name its
	// key (signing.Keyring can), else no checkpoint lines are sent.
	Checkpoints Checkpointer
}

func (c *Config) fill() error {
	if c.MaxBatchLines == 0 {
		c.MaxBatchLines = DefaultMaxBatchLines
	}
	if c.MaxBatchBytes == 0 {
		c.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.CoalesceWait == 0 {
		c.CoalesceWait = DefaultCoalesceWait
	}
	if c.CheckpointEvery <= 0 {
		c.CheckpointEvery = DefaultCheckpointEvery
	}
	if c.SignWorkers == 0 {
		c.SignWorkers = runtime.GOMAXPROCS(0)
	}
	r := &c.Retry
	if r.Min == 0 {
		r.Min = DefaultRetryMin
	}
	if r.Max == 0 {
		r.Max = DefaultRetryMax
	}
	if r.MaxRetries == 0 {
		r.MaxRetries = DefaultMaxRetries
	}
	if r.Jitter == 0 {
		r.Jitter = DefaultJitter
	}
	if r.Rand == nil {
		r.Rand = rand.Float64
	}
	switch {
	case c.MaxBatchLines < 0 || c.MaxBatchBytes < 0 || c.RequestTimeout < 0:
		return errors.New("delivery: batch limits and request timeout must be positive")
	case r.Min < 0 || r.Max < r.Min || r.MaxRetries < 0 || r.Jitter < 0:
		return errors.New("delivery: retry policy needs 0 < min <= max, retries >= 0, jitter >= 0")
	}
	return nil
}

func (d *Deps) fill() error {
	if d.Store == nil || d.Signer == nil {
		return errors.New("delivery: a store and a signer are required")
	}
	if d.Clock == nil {
		d.Clock = clock.Real{}
	}
	if ks, ok := d.Signer.(tlog.KeySigner); ok && d.Checkpoints == nil {
		d.Checkpoints = tlog.Notary{Tree: tlog.NewTree(d.Store), Signer: ks}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}
