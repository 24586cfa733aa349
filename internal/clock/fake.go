package clock

import (
	"sort"
	"sync"
	"time"
)

// Fake is a manually advanced clock for tests. Timers fire when Advance
// moves the time past their deadline; nothing sleeps.
type Fake struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	// waiters are woken whenever a timer is created, so a test can wait for
	// the code under test to start waiting before it advances the clock.
	waiters []chan struct{}
}

// NewFake returns a fake clock set to t.
func NewFake(t time.Time) *Fake { return &Fake{now: t} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer returns a timer that fires when the clock is advanced past now+d.
func (f *Fake) NewTimer(d time.Duration) Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTimer{f: f, at: f.now.Add(d), ch: make(chan time.Time, 1), d: d}
	if d <= 0 {
		t.ch <- f.now
		t.fired = true
	} else {
		f.timers = append(f.timers, t)
	}
	for _, w := range f.waiters {
		close(w)
	}
	f.waiters = nil
	return t
}

// Advance moves the clock forward by d, firing due timers in order.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	sort.Slice(f.timers, func(i, j int) bool { return f.timers[i].at.Before(f.timers[j].at) })
	kept := f.timers[:0]
	for _, t := range f.timers {
		if !t.at.After(f.now) {
			t.ch <- t.at
			t.fired = true
			continue
		}
		kept = append(kept, t)
	}
	f.timers = kept
}

// Set moves the clock to t (which must not be before Now).
func (f *Fake) Set(t time.Time) { f.Advance(t.Sub(f.Now())) }

// Pending returns the durations, from now, of the timers not yet fired.
func (f *Fake) Pending() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []time.Duration
	for _, t := range f.timers {
		out = append(out, t.at.Sub(f.now))
	}
	return out
}

// TimerCreated returns a channel closed the next time a timer is created.
func (f *Fake) TimerCreated() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan struct{})
	f.waiters = append(f.waiters, ch)
	return ch
}

type fakeTimer struct {
	f     *Fake
	at    time.Time
	d     time.Duration
	ch    chan time.Time
	fired bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	if t.fired {
		return false
	}
	for i, x := range t.f.timers {
		if x == t {
			t.f.timers = append(t.f.timers[:i], t.f.timers[i+1:]...)
			return true
		}
	}
	return false
}

// AutoAdvance fires every timer soon after it is created, by moving the
// clock to the latest pending deadline, until stop is called (stop waits
// for that to end). For tests about outcomes rather than the schedule.
func (f *Fake) AutoAdvance() (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			created := f.TimerCreated()
			var longest time.Duration
			for _, d := range f.Pending() {
				longest = max(longest, d)
			}
			f.Advance(longest)
			select {
			case <-quit:
				return
			case <-created:
			}
		}
	}()
	return func() { close(quit); <-done }
}
