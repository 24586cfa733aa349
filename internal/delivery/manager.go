package delivery

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/store"
)

// Manager runs one dispatcher per enabled webhook and wakes them when their
// streams grow. It is the server's store.Recorder.
type Manager struct {
	cfg     Config
	deps    Deps
	clock   clock.Clock
	log     *slog.Logger
	metrics *metrics
	sender  *sender
	running atomic.Bool

	// lifeMu serializes starting and stopping dispatchers, so Disown
	// returns only once no dispatcher of the stream runs, even when a
	// reload was restarting it at the same time.
	lifeMu sync.Mutex

	mu   sync.RWMutex
	disp map[store.StreamID]*dispatcher
	// cut holds the dispatchers stopped short by a change heard and not
	// yet reloaded (hold.go): the reload starts them again.
	cut map[store.StreamID]*dispatcher
	// owned holds, in clustered mode, the streams this replica holds the
	// lease of and the lease's fence (see ownership.go).
	owned map[store.StreamID]store.Fence

	changedMu sync.Mutex
	changed   map[store.StreamID]struct{}
	changedCh chan struct{} // capacity 1
	// held: the streams being reloaded, whose wake-ups wait for the
	// reload, with the highest sequence number heard meanwhile (hold.go).
	// Under changedMu; holding is its size, read without the lock.
	held    map[store.StreamID]int64
	holding atomic.Int32
}

var _ store.Recorder = (*Manager)(nil)

// reconcileRetryWait is how soon a webhook whose reload failed (a store
// error) is reloaded again.
const reconcileRetryWait = time.Second

// New checks the configuration and registers the metrics. Nothing runs
// until Run.
func New(cfg Config, deps Deps) (*Manager, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	if err := deps.fill(); err != nil {
		return nil, err
	}
	m := &Manager{
		cfg: cfg, deps: deps, clock: deps.Clock, log: deps.Logger,
		metrics:   newMetrics(),
		disp:      map[store.StreamID]*dispatcher{},
		cut:       map[store.StreamID]*dispatcher{},
		owned:     map[store.StreamID]store.Fence{},
		changed:   map[store.StreamID]struct{}{},
		changedCh: make(chan struct{}, 1),
		held:      map[store.StreamID]int64{},
	}
	m.sender = newSender(cfg, deps, m.metrics)
	if err := m.metrics.register(deps.Registerer, lagCollector{m}); err != nil {
		return nil, err
	}
	return m, nil
}

// Run starts a dispatcher for every enabled webhook, follows
// WebhookChanged, and returns once ctx is done and every dispatcher has
// stopped. It returns an error only when the webhooks cannot be loaded.
func (m *Manager) Run(ctx context.Context) error {
	if !m.running.CompareAndSwap(false, true) {
		return errors.New("delivery: Run called twice")
	}
	defer m.running.Store(false)
	defer m.stopAll()
	hooks, err := m.deps.Store.ListEnabledWebhooks(ctx)
	if err != nil {
		return err
	}
	for _, w := range hooks {
		if err := m.apply(ctx, w); err != nil {
			m.retryLater(w.Stream)
		}
	}
	var retry clock.Timer
	var retryC <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			if retry != nil {
				retry.Stop()
			}
			return nil
		case <-retryC:
			retry, retryC = nil, nil
			m.signalChanged()
		case <-m.changedCh:
			failed := false
			for _, s := range m.takeChanged() {
				err := m.reconcile(ctx, s)
				switch {
				case err == nil:
					m.reloaded(s)
				case ctx.Err() == nil:
					m.log.Error("delivery: reloading the webhook failed", "stream", s, "err", err)
					m.retryLater(s)
					failed = true
				}
			}
			if failed && retry == nil {
				retry = m.clock.NewTimer(reconcileRetryWait)
				retryC = retry.C()
			}
		}
	}
}

// Record appends the entries and wakes the dispatchers of their streams,
// and only those. They are woken even when Append fails: the store may
// have committed anyway (SQLite finishes a commit whose caller's context
// ended), and a spare wake-up costs one read.
func (m *Manager) Record(ctx context.Context, entries []store.NewEntry) ([]int64, error) {
	seqs, err := m.deps.Store.Append(ctx, entries)
	if err != nil {
		m.wakeAfterError(entries, ctx.Err() != nil)
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if len(m.disp) == 0 {
		return seqs, nil
	}
	// Entries of one request mostly share a stream: wake each run once,
	// with its highest sequence number.
	for i := 0; i < len(entries); {
		j := i + 1
		for j < len(entries) && entries[j].Stream == entries[i].Stream {
			j++
		}
		if d := m.disp[entries[i].Stream]; d != nil && !m.holdWake(d.stream, seqs[j-1]) {
			d.notify(seqs[j-1])
		}
		i = j
	}
	return seqs, nil
}

// wakeAfterError wakes the dispatchers of the entries' streams after a
// failed Append. When the caller's context ended the commit may still be
// under way, so a wake-up now can come too early: unknown also asks each
// dispatcher to read again shortly (recheckFirst, recheckLast).
func (m *Manager) wakeAfterError(entries []store.NewEntry, unknown bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if len(m.disp) == 0 {
		return
	}
	var last store.StreamID
	for i := range entries {
		s := entries[i].Stream
		if i > 0 && s == last {
			continue
		}
		last = s
		if d := m.disp[s]; d != nil {
			if unknown {
				d.recheck.Store(true)
			}
			if !m.holdWake(s, 0) {
				d.poke()
			}
		}
	}
}

// WebhookChanged makes the manager reload the stream's webhook and its
// destination: enabling starts sending from the stored cursor, disabling
// or deleting stops at once (a request in flight is abandoned and its
// batch sent again on re-enabling), a new destination takes over from the
// cursor. The stream's dispatcher sends nothing more the old way (hold.go),
// so an entry appended after the change goes the new way. It never
// blocks.
func (m *Manager) WebhookChanged(stream store.StreamID) {
	m.reload(stream)
	m.interrupt(stream)
}

// RecheckWebhook reloads the stream's webhook and destination without
// stopping its dispatcher: one that sends as the store now says goes on,
// its request in flight included (a destination's rename); one that does
// not is restarted. It never blocks.
func (m *Manager) RecheckWebhook(stream store.StreamID) {
	m.reload(stream)
}

// DestinationChanged reloads every webhook that points at the destination,
// after it was updated. It reads the store, so it is not called in the
// change feed's order: the dispatchers that send to the destination are
// stopped by ReloadDestination, which is; these reloads only catch the
// webhooks without one.
func (m *Manager) DestinationChanged(ctx context.Context, orgID, destinationID string) error {
	hooks, err := m.deps.Store.WebhooksUsingDestination(ctx, orgID, destinationID)
	if err != nil {
		return err
	}
	streams := make([]store.StreamID, len(hooks))
	for i, w := range hooks {
		streams[i] = w.Stream
	}
	m.reload(streams...)
	return nil
}

// SendBatch renders, signs, gzips and POSTs entries to dest under the full
// retry policy, in as many requests as the batch caps need, touching no
// cursor and no webhook status (replay jobs use it). A failure is a
// *SendError naming the last answer; ctx's error when it ended first.
func (m *Manager) SendBatch(ctx context.Context, dest store.Destination, entries []store.StoredEntry) error {
	for len(entries) > 0 {
		r, err := m.sender.render(lineFormatOf(dest), entries)
		if err != nil {
			return err
		}
		a, err := m.sender.sendRetrying(ctx, dest, r.gz, nil)
		if err != nil {
			return err
		}
		if !a.ok() {
			m.sender.observeFailed(r)
			return &SendError{Status: a.status, Message: a.message}
		}
		m.sender.observeDelivered(r, entries, false)
		entries = entries[r.n:]
	}
	return nil
}

func (m *Manager) signalChanged() {
	select {
	case m.changedCh <- struct{}{}:
	default:
	}
}

func (m *Manager) retryLater(s store.StreamID) {
	m.changedMu.Lock()
	m.changed[s] = struct{}{}
	m.changedMu.Unlock()
}

func (m *Manager) takeChanged() []store.StreamID {
	m.changedMu.Lock()
	defer m.changedMu.Unlock()
	out := make([]store.StreamID, 0, len(m.changed))
	for s := range m.changed {
		out = append(out, s)
	}
	clear(m.changed)
	return out
}

// reconcile makes the running dispatcher of stream match the store.
func (m *Manager) reconcile(ctx context.Context, stream store.StreamID) error {
	if _, ok := m.fenceOf(stream); !ok {
		// Another replica delivers it: nothing to read.
		m.stop(stream)
		return nil
	}
	w, err := m.deps.Store.GetWebhook(ctx, stream)
	if apperr.Is(err, apperr.NotFound) {
		m.stop(stream)
		return nil
	}
	if err != nil {
		return err
	}
	return m.apply(ctx, w)
}

// apply starts, restarts or stops the dispatcher of w.
func (m *Manager) apply(ctx context.Context, w store.Webhook) error {
	if _, mine := m.fenceOf(w.Stream); !mine || !w.Enabled || w.DestinationID == "" {
		m.stop(w.Stream)
		return nil
	}
	// Read before taking lifeMu: a slow store must not hold up Disown,
	// which the coordinator calls to stop delivery in time.
	dest, err := m.deps.Store.GetDestination(ctx, w.OrgID, w.DestinationID)
	if apperr.Is(err, apperr.NotFound) {
		m.stop(w.Stream)
		return nil
	}
	if err != nil {
		return err
	}
	m.lifeMu.Lock()
	defer m.lifeMu.Unlock()
	// Again under lifeMu: Disown or Own may have come meanwhile.
	fence, mine := m.fenceOf(w.Stream)
	if !mine {
		m.stopLocked(w.Stream)
		return nil
	}
	m.mu.RLock()
	cur := m.disp[w.Stream]
	interrupted := cur != nil && m.cut[w.Stream] == cur
	m.mu.RUnlock()
	// A reload that finds an unrelated edit (the name) leaves the
	// dispatcher running, unless the change was heard in order and the
	// dispatcher stopped short for it (hold.go).
	if cur != nil && !interrupted && store.SameDelivery(cur.dest, dest) && cur.fence == fence && !cur.stopped() {
		return nil
	}
	m.stopLocked(w.Stream)
	m.start(ctx, w, dest, fence)
	return nil
}

// start runs a new dispatcher, which reads the stored cursor, head and
// failed ranges afresh (deliver), whatever a previous one of this stream
// knew. The caller holds lifeMu.
func (m *Manager) start(ctx context.Context, w store.Webhook, dest store.Destination, fence store.Fence) {
	dctx, cancel := context.WithCancel(ctx)
	d := &dispatcher{
		m: m, stream: w.Stream, hook: w, dest: dest, fence: fence,
		wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{}),
	}
	m.mu.Lock()
	m.disp[w.Stream] = d
	m.mu.Unlock()
	go d.run(dctx)
}

// stop stops the dispatcher of stream, if any, and waits for it.
func (m *Manager) stop(stream store.StreamID) {
	m.lifeMu.Lock()
	defer m.lifeMu.Unlock()
	m.stopLocked(stream)
}

func (m *Manager) stopLocked(stream store.StreamID) {
	m.mu.Lock()
	d := m.disp[stream]
	delete(m.disp, stream)
	delete(m.cut, stream)
	m.mu.Unlock()
	if d != nil {
		d.cancel()
		<-d.done
	}
}

func (m *Manager) stopAll() {
	m.lifeMu.Lock()
	defer m.lifeMu.Unlock()
	m.mu.Lock()
	all := m.disp
	m.disp = map[store.StreamID]*dispatcher{}
	clear(m.cut)
	m.mu.Unlock()
	for _, d := range all {
		d.cancel()
	}
	for _, d := range all {
		<-d.done
	}
	m.sender.closeIdle()
}

func (m *Manager) dispatchers() []*dispatcher {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*dispatcher, 0, len(m.disp))
	for _, d := range m.disp {
		out = append(out, d)
	}
	return out
}
